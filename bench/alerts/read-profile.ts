// `node -r @swc-node/register bench/alerts/read-profile.ts [queries] [alertsPerQuery] [rounds]`
//
// The evaluation's version reads alone, on the real PostgreSQL in a throwaway database: every row
// (queryVersions + alertVersions) against by bucket (version-buckets.ts), interleaved round by
// round so that both see the same load, with `changed` alerts updated between rounds (as an
// evaluation's writes would). Prints the median and p99 ms of each, the median CPU this process
// (the control plane's side: the driver, Prisma's decoding) spent on each, and the buckets read.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { AlertEvaluationRepository } from '../../apps/control-plane/src/alerting/alert-evaluation.repository';
import { VersionBuckets } from '../../apps/control-plane/src/alerting/version-buckets';
import { loadAppConfig } from '../../apps/control-plane/src/config/app-config';
import { PrismaRepository } from '../../apps/control-plane/src/repositories/prisma.repository';

const ROOT = path.resolve(__dirname, '..', '..');
const [queries = 1000, alertsPerQuery = 2, rounds = 30, changed = 15] = process.argv.slice(2).map(Number);
const CLUSTER = 'read-profile';

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgresql://sluice@127.0.0.1:55432/sluice';
  const dbName = `sluice_bench_reads_${process.pid}`;
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  try {
    const env = { ...process.env, DATABASE_URL: url.toString() };
    const migrated = spawnSync('npm', ['run', '-s', 'db:migrate'], { cwd: ROOT, env, encoding: 'utf8' });
    if (migrated.status !== 0) throw new Error(`db:migrate: ${migrated.stderr}`);
    await measure(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

async function measure(databaseUrl: string): Promise<void> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(
    `INSERT INTO "Query" (id, name, "desiredState", phase, cluster, "updatedAt", "lastProgressAt")
     SELECT gen_random_uuid(), 'q' || i, 'RUNNING', 'RUNNING', $1, now(), now() FROM generate_series(1, $2) i`,
    [CLUSTER, queries],
  );
  for (let r = 0; r < alertsPerQuery; r++) {
    await db.query(
      `WITH rule AS (INSERT INTO "AlertRule" (id, name, kind, params, "forSeconds", severity, annotations, "updatedAt")
         VALUES (gen_random_uuid(), 'rule' || $1::int, 'timeLag', '{}', 0, 'warning', '{}', now()) RETURNING id)
       INSERT INTO "Alert" (id, "ruleId", "queryId", "queryName", state, "activeAt", "updatedAt")
       SELECT gen_random_uuid(), rule.id, q.id, q.name, 'firing', now(), now() FROM "Query" q, rule`,
      [r],
    );
  }
  const prisma = new PrismaRepository(loadAppConfig({ ...process.env, DATABASE_URL: databaseUrl }));
  const repo = new AlertEvaluationRepository(prisma);
  const qb = new VersionBuckets<unknown>();
  const ab = new VersionBuckets<unknown>();
  const full: number[] = [];
  const bucketed: number[] = [];
  const read: number[] = [];
  const fullCpu: number[] = [];
  const bucketedCpu: number[] = [];
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  for (let i = 0; i < rounds; i++) {
    await db.query(
      `UPDATE "Alert" SET "updatedAt" = now() WHERE id IN (SELECT id FROM "Alert" ORDER BY random() LIMIT $1)`,
      [changed],
    );
    let t = performance.now();
    let c = process.cpuUsage();
    await Promise.all([repo.queryVersions(), repo.alertVersions(CLUSTER)]);
    full.push(performance.now() - t);
    fullCpu.push(cpuMs(process.cpuUsage(c)));
    t = performance.now();
    c = process.cpuUsage();
    await Promise.all([
      repo.queryVersionBuckets(qb.known()).then((b) => qb.apply(b)),
      repo.alertVersionBuckets(CLUSTER, ab.known()).then((b) => ab.apply(b)),
    ]);
    bucketed.push(performance.now() - t);
    bucketedCpu.push(cpuMs(process.cpuUsage(c)));
    read.push(qb.lastRead + ab.lastRead);
  }
  await prisma.$disconnect();
  await db.end();
  const pct = (xs: number[], p: number) =>
    Math.round([...xs].sort((a, b) => a - b)[Math.ceil((p / 100) * xs.length) - 1]! * 10) / 10;
  const warm = (xs: number[]) => xs.slice(2);
  console.log(
    JSON.stringify({
      queries,
      alerts: queries * alertsPerQuery,
      changedPerRound: changed,
      everyRowMsP50: pct(warm(full), 50),
      everyRowMsP99: pct(warm(full), 99),
      byBucketMsP50: pct(warm(bucketed), 50),
      byBucketMsP99: pct(warm(bucketed), 99),
      everyRowCpuMsP50: pct(warm(fullCpu), 50),
      byBucketCpuMsP50: pct(warm(bucketedCpu), 50),
      bucketsReadP50: pct(warm(read), 50),
    }),
  );
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
