// The evaluation interval divided into shares of the queries, one pass per share, spread evenly
// over the interval, as Prometheus spreads its rule groups (rules/group.go: each group is
// evaluated at its own offset within the interval, from a hash of the group). Each query is still
// evaluated once every interval, at slots whole intervals apart (evaluation-slots.ts), but the API
// shares its event loop and the database with an eighth of the work at a time instead of all of it
// at once: at 1,000 queries × 16 partitions every 10 s, the API's p99 during an evaluation rose
// +17 to +21 ms above idle with one pass, +2.9 and +4.2 ms in eight (bench:alerts, 600 and 1,800 s;
// BENCHMARKS.md, 2026-12-06).
//
// A query's share is fixed by its id (the last byte of its v4 uuid, random), so a query never
// moves between shares and each share's pipeline keeps its own copies (evaluation-share.ts). Shares
// divide VERSION_BUCKETS, so a share is a set of whole version buckets.
import { VERSION_BUCKETS } from './version-buckets';

/** A pass never runs more often than this: each has a fixed cost (a handful of statements). */
export const MIN_PASS_SPACING_MS = 250;

/** What SLUICE_ALERT_EVAL_SHARES may be: the divisors of VERSION_BUCKETS. */
export const SHARE_COUNTS = [1, 2, 4, 8, 16, 32, 64] as const;

/** One share: `index` of `count`. */
export interface Share {
  readonly index: number;
  readonly count: number;
}

/**
 * The shares actually used: at most `configured`, and no more than keeps the passes whole
 * milliseconds apart and at least MIN_PASS_SPACING_MS apart (a short interval, as tests use,
 * gets fewer shares; 1 share is the whole evaluation in one pass).
 */
export function effectiveShares(configured: number, intervalMs: number): number {
  let best = 1;
  for (const c of SHARE_COUNTS) {
    if (c > configured) break;
    if (intervalMs % c === 0 && intervalMs / c >= MIN_PASS_SPACING_MS) best = c;
  }
  return best;
}

/** The share whose pass runs at `slotMs` (a multiple of `spacingMs`): shares take turns. */
export function shareOfSlot(slotMs: number, spacingMs: number, count: number): number {
  const n = Math.round(slotMs / spacingMs);
  return ((n % count) + count) % count;
}

/** The share a query id falls in (the same arithmetic as `shareFilterSql`). */
export function shareOfId(uuid: string, count: number): number {
  const lastByte = parseInt(uuid.slice(-2), 16);
  return (lastByte % VERSION_BUCKETS) % count;
}

/**
 * A SQL condition: `uuidColumn` (a uuid expression) falls in `share`. Both numbers are checked
 * integers from the configuration, never input, so they are written into the text.
 */
export function shareFilterSql(uuidColumn: string, share: Share): string {
  const { index, count } = share;
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || index >= count) {
    throw new Error(`not a share: ${index} of ${count}`);
  }
  if (count === 1) return 'true';
  return `(get_byte(uuid_send(${uuidColumn}), 15) % ${VERSION_BUCKETS} % ${count} = ${index})`;
}
