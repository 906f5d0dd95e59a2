// With the real node executable: the probe starts it with the flags.
import { describe, expect, it } from 'vitest';
import { LMDB_ENGINE_NODE_FLAGS } from '@sluice/query-plan';
import { isNodeProgram, nodeAcceptsFlags, withEngineNodeFlags } from './engine-node-flags';

describe('engine node flags on the command line', () => {
  it("go right after node, before the engine's script: this node accepts the lmdb flags", async () => {
    expect(await nodeAcceptsFlags(process.execPath, LMDB_ENGINE_NODE_FLAGS)).toBe(true);
    expect(
      await withEngineNodeFlags([process.execPath, 'launcher.js', 'engine.js'], LMDB_ENGINE_NODE_FLAGS),
    ).toEqual([process.execPath, ...LMDB_ENGINE_NODE_FLAGS, 'launcher.js', 'engine.js']);
    expect(await withEngineNodeFlags([process.execPath, 'engine.js'], [])).toEqual([
      process.execPath,
      'engine.js',
    ]);
  });

  it('are left out where node does not know them (it would refuse to start)', async () => {
    const unknown = ['--no-such-v8-flag-for-sluice=1'];
    expect(await nodeAcceptsFlags(process.execPath, unknown)).toBe(false);
    expect(await withEngineNodeFlags([process.execPath, 'engine.js'], unknown)).toEqual([
      process.execPath,
      'engine.js',
    ]);
  });

  it('are not given to a program that is not node (a wrapper command)', async () => {
    expect(isNodeProgram('/usr/local/bin/node')).toBe(true);
    expect(isNodeProgram(process.execPath)).toBe(true);
    expect(isNodeProgram('/opt/engine/run.sh')).toBe(false);
    expect(await withEngineNodeFlags(['/opt/engine/run.sh', '--x'], LMDB_ENGINE_NODE_FLAGS)).toEqual([
      '/opt/engine/run.sh',
      '--x',
    ]);
    expect(await withEngineNodeFlags([], LMDB_ENGINE_NODE_FLAGS)).toEqual([]);
  });
});
