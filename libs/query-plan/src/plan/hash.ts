// Stable hashes: sha256 over canonical JSON (object keys sorted, undefined dropped), so the same
// plan always hashes the same regardless of the order properties were built in.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of an operator's definition: everything but its own `hash` field. */
export function withHash<T extends { hash: string }>(operator: Omit<T, 'hash'>): T {
  const hash = sha256(canonicalJson(operator));
  return { ...operator, hash } as T;
}
