// `npm test` step "API fuzzing": schemathesis against the OpenAPI document of a real control
// plane. The control plane runs on the local stack with a throwaway database, its own Redis
// database index and stand-in engines, so nothing the fuzzer creates or deletes reaches the
// shared `sluice` database or runs real engines; Kafka is shared (read-only lag look-ups and the
// progress consumer group). Exits non-zero on any failure and prints the counts.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadStackConfig, stackEnv } from '../stack/config';
import { startControlPlane } from '../../apps/control-plane/test/support/control-plane-process';
import { ensureSchemathesis } from './python-env';
import { acquireRunLock } from './run-lock';
import { writeRunConfig } from './run-config';
import { summarise } from './run-report';
import { seed } from './seed-data';
import {
  createThrowawayDatabase,
  emptyRedisDatabase,
} from '../../apps/control-plane/test/support/throwaway-database';
import { REDIS_INDEXES } from '../../apps/control-plane/test/support/redis-indexes';

const ROOT = path.resolve(__dirname, '..', '..');
const log = (m: string) => process.stdout.write(`[schemathesis] ${m}\n`);

const int = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
// Defaults keep the whole step near a minute and a half on 2 cores; raise them locally to fuzz
// harder (SLUICE_FUZZ_MAX_EXAMPLES=200 SLUICE_FUZZ_SEED=$RANDOM SLUICE_FUZZ_TIME_LIMIT_S=1200).
const PORT = int('SLUICE_FUZZ_PORT', 4470);
const MAX_EXAMPLES = int('SLUICE_FUZZ_MAX_EXAMPLES', 25);
const SEED = int('SLUICE_FUZZ_SEED', 20261201);
// A guard against a hang, not a speed test: generous, because the 2 cores are often shared.
const TIME_LIMIT_S = int('SLUICE_FUZZ_TIME_LIMIT_S', 300);
/** Redis database index of the fuzzed control plane: its BullMQ jobs stay away from everyone else's. */
const REDIS_DB = REDIS_INDEXES.schemathesis;
const DATABASE = 'sluice_schemathesis';
/**
 * Server errors; responses unlike the document (status code, content type, body schema); 405 with
 * Allow for methods the document does not list; every operation refuses a request without a token.
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'unsupported_method',
  'ignored_auth',
];

async function main(): Promise<number> {
  const t0 = Date.now();
  const stack = loadStackConfig();
  const work = path.join(stack.home, 'schemathesis');
  fs.mkdirSync(work, { recursive: true });
  const bin = ensureSchemathesis(path.join(work, 'venv'), log);
  const release = await acquireRunLock(path.join(work, 'run.lock'), 300_000, log);
  const cleanups: Array<() => Promise<void> | void> = [release];
  try {
    const shared = stackEnv(stack);
    const db = await createThrowawayDatabase(shared.DATABASE_URL, DATABASE);
    cleanups.unshift(() => db.drop());
    const home = path.join(work, 'home');
    const reports = path.join(work, 'report');
    for (const dir of [home, reports]) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
    }
    const token = `slc_fuzz_${randomBytes(24).toString('hex')}`;
    const redis = new URL(shared.REDIS_URL);
    redis.pathname = `/${REDIS_DB}`;
    // Jobs a killed run left there name operations of a database that no longer exists.
    await emptyRedisDatabase(redis.toString());
    const cp = await startControlPlane({
      port: PORT,
      home,
      logFile: path.join(work, 'control-plane.log'),
      readyTimeoutMs: 90_000,
      env: {
        ...process.env,
        ...shared,
        DATABASE_URL: db.url,
        REDIS_URL: redis.toString(),
        SLUICE_API_PORT: String(PORT),
        SLUICE_HOME: home,
        SLUICE_BOOTSTRAP_TOKEN: token,
        SLUICE_ENGINE_COMMAND: JSON.stringify([
          process.execPath,
          path.join(ROOT, 'apps/control-plane/test/fixtures/stand-in-engine.cjs'),
        ]),
        // Stand-ins report no progress, so a rate limit is never acknowledged: its operation
        // fails after this instead of holding one of the four operation workers for minutes.
        SLUICE_OPERATION_TIMEOUT_MS: '15000',
        LOG_LEVEL: 'warn',
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
    });
    cleanups.unshift(async () => {
      const t = Date.now();
      await cp.stop();
      log(`control plane stopped (${Math.round((Date.now() - t) / 1000)} s)`);
    });
    log(
      `control plane up on ${cp.base} (database ${DATABASE}, redis db ${REDIS_DB}); ${MAX_EXAMPLES} examples per operation, seed ${SEED}`,
    );
    const ids = await seed(cp.base, token);
    const config = path.join(work, 'run.toml');
    writeRunConfig(config, ids);
    log(
      `seeded ${ids.queries.length} queries, ${ids.operations.length} operations and ${ids.tokens.length} token for {id} parameters`,
    );
    const consoleLog = path.join(work, 'schemathesis.log');
    const code = await runSchemathesis(bin, config, cp.base, token, reports, consoleLog);
    const summary = summarise(reports);
    log(
      `requests sent: ${summary.requests}; test cases: ${summary.cases}; operations: ${summary.operations}; ` +
        `failures: ${summary.failures.length}; errors: ${summary.errors.length} (${Math.round((Date.now() - t0) / 1000)} s)`,
    );
    for (const line of [...summary.failures, ...summary.errors]) log(`  ${line}`);
    if (code !== 0) {
      process.stdout.write(tail(consoleLog, 120));
      log(
        `FAILED (schemathesis exited ${code}; its output in ${path.relative(ROOT, consoleLog)}, reports in ${path.relative(ROOT, reports)})`,
      );
    }
    return code === 0 && summary.failures.length === 0 && summary.errors.length === 0 ? 0 : 1;
  } finally {
    for (const c of cleanups)
      await Promise.resolve(c()).catch((e: unknown) => log(`cleanup failed: ${String(e)}`));
  }
}

function runSchemathesis(
  bin: string,
  config: string,
  base: string,
  token: string,
  reports: string,
  consoleLog: string,
): Promise<number> {
  const args = [
    '--config-file',
    config,
    'run',
    `${base}/api/docs/openapi.json`,
    '--header',
    `Authorization: Bearer ${token}`,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    // One worker: with two, hypothesis sometimes died in Python 3.11's ast.parse ("AST constructor
    // recursion depth mismatch") while describing strategies in both threads at once.
    '--workers',
    '1',
    '--request-timeout',
    '15',
    // No example database: every run generates from the seed alone, so runs are reproducible.
    '--generation-database',
    'none',
    '--report',
    'junit,ndjson',
    '--report-dir',
    reports,
    '--no-color',
  ];
  return new Promise((resolve, reject) => {
    // Its own console output goes to a file, not to `npm test`'s: it ends in a pytest-style
    // "=== 3 warnings in 47s ===" line, and CI, which reads the tests a run executed from such
    // closing summaries, read the whole run as "no test executed" (three landings in a row).
    // Our one-line count below says what matters; on a failure the file's tail is printed.
    const out = fs.openSync(consoleLog, 'w');
    const child = spawn(bin, args, { cwd: path.dirname(reports), stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const timer = setTimeout(() => {
      log(`still running after ${TIME_LIMIT_S} s: stopping it`);
      child.kill('SIGKILL');
    }, TIME_LIMIT_S * 1000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

/** The last `lines` lines of a file, for a failure's context. */
function tail(file: string, lines: number): string {
  const all = fs.readFileSync(file, 'utf8').split('\n');
  return all.slice(-lines).join('\n') + '\n';
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`[schemathesis] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
