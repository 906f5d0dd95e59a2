// `--replay QUERY_ID`: reads a query's stored progress from PostgreSQL and turns it into a
// simulator profile, so policies can be compared on real traffic.
import { Client } from 'pg';
import { profileFromProgress, type Profile, type RecordedProgress } from '@sluice/scaling';
import { stackEnv } from '../../scripts/stack/config';

interface ProgressRow {
  timestamp: Date;
  instance: string | null;
  numInputRows: string;
  batchDurationMs: number | null;
  payload: unknown;
}

export function replayDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? stackEnv().DATABASE_URL;
}

export async function loadReplayProfile(queryId: string, sloMaxLagSeconds: number): Promise<Profile> {
  const client = new Client({ connectionString: replayDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<ProgressRow>(
      `SELECT "timestamp", "instance", "numInputRows", "batchDurationMs", "payload"
         FROM "ProgressEvent" WHERE "queryId" = $1 ORDER BY "timestamp", "id"`,
      [queryId],
    );
    if (rows.length < 2)
      throw new Error(`query ${queryId} has ${rows.length} stored progress events; need at least 2`);
    const events: RecordedProgress[] = rows.map((r) => ({
      timeMs: r.timestamp.getTime(),
      instance: r.instance ?? 'default',
      numInputRows: Number(r.numInputRows),
      batchDurationMs: r.batchDurationMs,
      latestOffsets: latestOffsetsOf(r.payload),
    }));
    return profileFromProgress(events, {
      name: `replay-${queryId.slice(0, 8)}`,
      sloMaxLagSeconds,
      // Progress does not show how long instances take to start; assume the shipped profiles' values.
      startupSeconds: 45,
      rebalancePauseSeconds: 10,
      bucketSeconds: 60,
    });
  } finally {
    await client.end();
  }
}

function latestOffsetsOf(payload: unknown): unknown[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const sources = (payload as { sources?: unknown }).sources;
  if (!Array.isArray(sources)) return [];
  return sources.map((s: unknown) =>
    typeof s === 'object' && s !== null ? (s as { latestOffset?: unknown }).latestOffset : undefined,
  );
}
