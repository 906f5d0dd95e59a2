import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from './json-depth';

const depth = (text: string, limit: number): boolean => jsonDepthExceeds(Buffer.from(text), limit);

describe('jsonDepthExceeds', () => {
  it('counts objects and arrays, just over and just under the limit', () => {
    expect(depth('{"a": [1, {"b": []}]}', 4)).toBe(false);
    expect(depth('{"a": [1, {"b": []}]}', 3)).toBe(true);
    expect(depth(`${'['.repeat(100_000)}${']'.repeat(100_000)}`, 32)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(depth('{"a": "[[[[{{{{", "b": "\\"[[[["}', 1)).toBe(false);
    expect(depth('["\\\\", [[]]]', 2)).toBe(true);
  });

  it('measures nesting, not the number of collections', () => {
    expect(depth(`[${'[], '.repeat(10_000)}[]]`, 2)).toBe(false);
  });
});
