// Stable hashes: sha256 over canonical JSON (object keys sorted, undefined dropped), so the same
// plan always hashes the same regardless of the order properties were built in.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  // Parts are collected and joined once: building each level's string from its children's would
  // copy a subtree once per level above it, quadratic for the deep trees of long AND/OR chains.
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, parts: string[]): void {
  if (value === null || typeof value !== 'object') {
    parts.push(JSON.stringify(value) ?? 'null');
  } else if (Array.isArray(value)) {
    parts.push('[');
    value.forEach((item: unknown, i) => {
      if (i > 0) parts.push(',');
      write(item === undefined ? null : item, parts);
    });
    parts.push(']');
  } else {
    const record = value as Record<string, unknown>;
    // The default sort compares UTF-16 code units, the order `<` gives strings.
    const keys = Object.keys(record).sort();
    parts.push('{');
    let first = true;
    for (const key of keys) {
      const v = record[key];
      if (v === undefined) continue;
      parts.push(first ? '' : ',', JSON.stringify(key), ':');
      first = false;
      write(v, parts);
    }
    parts.push('}');
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of an operator's definition: everything but its own `hash` field. */
export function withHash<T extends { hash: string }>(operator: Omit<T, 'hash'>): T {
  const hash = sha256(canonicalJson(operator));
  return { ...operator, hash } as T;
}
