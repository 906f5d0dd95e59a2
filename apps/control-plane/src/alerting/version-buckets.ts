// The evaluator's copy of a table's version rows (alert-evaluation.repository.ts), kept up to date
// without reading every row each tick. The rows fall into VERSION_BUCKETS buckets by their id; one
// statement returns every bucket's digest (its row count and the sum of its rows' 64-bit hashes) and the rows only of the buckets
// whose digest differs from the one held here, in one snapshot. When few rows changed (alerts, most
// ticks) a tick transfers and decodes a few buckets instead of every row; when every row changed
// (queries whose progress moves every batch) it reads them all, as before, in one round trip.
//
// Why digests rather than "rows updated since": a row's updatedAt is set by its writer's clock and
// becomes visible at its commit, so a row committed late with an earlier updatedAt would be missed
// for good, and deletions leave no row behind; a digest is of what the snapshot holds, so a change
// of any kind (insert, update, delete) shows as a different digest on the next read.

/** Buckets per table (by the last byte of the row's uuid, random in a v4 uuid). */
export const VERSION_BUCKETS = 64;

/** One bucket as read: its digest, and its rows as a JSON array when its digest was not the one held. */
export interface BucketRead {
  bucket: number;
  digest: string;
  /** null: the held digest is still the bucket's, its rows were not sent. */
  rows: string | null;
}

export class VersionBuckets<R> {
  private held = new Map<number, { digest: string; rows: R[] }>();

  /** The next read sends every bucket's rows (nothing is held). */
  reset(): void {
    this.held.clear();
  }

  /** The held digests as the statement's parameter: JSON [[bucket, digest], …]. */
  known(): string {
    return JSON.stringify([...this.held].map(([b, h]) => [b, h.digest]));
  }

  /** How many buckets the last `apply` had to read (their digest changed). */
  lastRead = 0;

  /**
   * Takes a read (every bucket that has rows) and returns every row, held or new. A bucket missing
   * from the read has no rows any more. A bucket sent without rows that is not held means the read
   * was made against other digests than the held ones: nothing is held after that, and it throws
   * (the next read sends every row).
   */
  apply(read: readonly BucketRead[]): R[] {
    const next = new Map<number, { digest: string; rows: R[] }>();
    let fresh = 0;
    for (const b of read) {
      if (b.rows === null) {
        const h = this.held.get(b.bucket);
        if (!h || h.digest !== b.digest) {
          this.held.clear();
          throw new Error(`version bucket ${b.bucket} was not sent although its digest is not held`);
        }
        next.set(b.bucket, h);
      } else {
        fresh++;
        next.set(b.bucket, { digest: b.digest, rows: JSON.parse(b.rows) as R[] });
      }
    }
    this.held = next;
    this.lastRead = fresh;
    const out: R[] = [];
    for (const h of next.values()) for (const r of h.rows) out.push(r);
    return out;
  }
}
