// One bounded walk over the parsed spec value: counts values as later stages will see them (an
// alias resolves to a shared object, so its values count at every place it is used), and finds
// strings that PostgreSQL cannot store. Iterative, and it stops at the first problem, so it does
// at most SPEC_MAX_VALUES steps whatever the aliases expand to.
import { formatLimit, SPEC_MAX_VALUES } from '../limits';
import type { PathSegment } from './spec-document';

export interface ValueProblem {
  path: PathSegment[];
  message: string;
  /** Point at the key rather than the value. */
  key?: boolean;
}

export function checkSpecValues(value: unknown): ValueProblem | undefined {
  const pending: Array<{ value: unknown; path: PathSegment[] }> = [{ value, path: [] }];
  let count = 0;
  while (pending.length > 0) {
    const item = pending.pop();
    if (!item) break;
    if (++count > SPEC_MAX_VALUES)
      return {
        path: item.path,
        message: `more than ${formatLimit(SPEC_MAX_VALUES)} values, counting each alias as the values it refers to (limit SPEC_MAX_VALUES)`,
      };
    const { value: node, path } = item;
    if (typeof node === 'string') {
      const problem = unstorable(node);
      if (problem) return { path, message: `the string contains ${problem}` };
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) pending.push({ value: node[i], path: [...path, i] });
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node).reverse()) {
        const problem = unstorable(key);
        if (problem) return { path: [...path, key], message: `the key contains ${problem}`, key: true };
        pending.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}

/**
 * Why `text` cannot be stored as PostgreSQL text/jsonb (where the control plane keeps specs and
 * plans), or undefined. Escapes such as "\0" or "\ud800" in a double-quoted scalar produce these
 * even when the spec text itself is clean.
 */
export function unstorable(text: string): string | undefined {
  if (text.includes('\0')) return 'a NUL character (U+0000), which PostgreSQL cannot store';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return `an unpaired surrogate (U+${code.toString(16).toUpperCase()}), which is not valid Unicode`;
  }
  return undefined;
}
