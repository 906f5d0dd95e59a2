// PostgreSQL advisory locks are keyed by one bigint or by two 32-bit integers. Sluice uses the two-int
// form: a fixed first key marks the lock as Sluice's (no clash with another application's locks in
// the same database), the second is a hash of the lock's name. Both stay non-negative, so they read
// back unchanged from pg_locks, whose classid/objid columns are unsigned.

/** First key of every Sluice advisory lock: "SLUE" in ASCII. */
export const SLUICE_LOCK_NAMESPACE = 0x534c5545;

/** FNV-1a (32 bit) of the name, folded to a non-negative int32. */
export function advisoryLockKey(name: string): [number, number] {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [SLUICE_LOCK_NAMESPACE, h & 0x7fffffff];
}

/** The lock whose holder is the cluster's leader. */
export function leaderLockName(cluster: string): string {
  return `leader/${cluster}`;
}
