import { describe, expect, it } from 'vitest';
import { engineNodeFlags, engineNodeFlagsOfText, LMDB_ENGINE_NODE_FLAGS } from './engine-node-flags';

describe('engine node flags', () => {
  it("bound V8's heap growth for the lmdb state store only", () => {
    expect(LMDB_ENGINE_NODE_FLAGS).toEqual(['--heap-growing-percent=30']);
    expect(engineNodeFlags({ options: { stateStore: 'lmdb' } })).toEqual(LMDB_ENGINE_NODE_FLAGS);
    expect(engineNodeFlags({ options: { stateStore: 'memory' } })).toEqual([]);
    // The default store is memory.
    expect(engineNodeFlags({ options: { numShufflePartitions: 1 } })).toEqual([]);
    expect(engineNodeFlags({})).toEqual([]);
    expect(engineNodeFlags(null)).toEqual([]);
  });

  it('read from a spec text; a text that does not parse gets none', () => {
    const spec = (options: string) => `name: q\nsql: SELECT 1\noptions: ${options}\n`;
    expect(engineNodeFlagsOfText(spec('{ numShufflePartitions: 1, stateStore: lmdb }'))).toEqual(
      LMDB_ENGINE_NODE_FLAGS,
    );
    expect(engineNodeFlagsOfText(spec('\n  stateStore: "lmdb"'))).toEqual(LMDB_ENGINE_NODE_FLAGS);
    expect(engineNodeFlagsOfText(spec('{ stateStore: memory }'))).toEqual([]);
    expect(engineNodeFlagsOfText('name: q\n')).toEqual([]);
    expect(engineNodeFlagsOfText('options: { stateStore: lmdb')).toEqual([]);
    expect(engineNodeFlagsOfText('')).toEqual([]);
  });
});
