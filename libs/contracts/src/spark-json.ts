// Serialisation rules Spark applies to StreamingQueryProgress (sql/api .../streaming/progress.scala):
// rates are decimals rounded HALF_UP to one place and omitted when NaN/Infinite; maps are
// emitted with sorted keys and omitted when empty; timestamps are UTC ISO-8601 with millis.

/** Spark's `safeDecimalToJValue`: one decimal place, HALF_UP; undefined (omitted) if not finite. */
export function sparkRate(value: number): number | undefined {
  if (!Number.isFinite(value)) return undefined;
  // Scale via the decimal string so 0.05 rounds like BigDecimal(0.05), not like 0.05 * 10 in binary.
  const sign = value < 0 ? -1 : 1;
  const scaled = Number(`${Math.abs(value)}e1`);
  return (sign * Math.round(scaled)) / 10;
}

/** Spark's `safeMapToJValue`: keys sorted, undefined (omitted) when empty. */
export function sortedMap<T>(map: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!map) return undefined;
  const keys = Object.keys(map).sort();
  if (keys.length === 0) return undefined;
  const out: Record<string, T> = {};
  for (const k of keys) out[k] = map[k] as T;
  return out;
}

/** Spark's progress timestamp format (`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, UTC). */
export function sparkTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Drops undefined members so JSON.stringify output matches Spark's JNothing omission. */
export function withoutUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
