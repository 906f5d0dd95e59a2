// The code cache's file naming and validation: a damaged or foreign file is refused (compiled
// from source then), never handed to V8.
import { describe, expect, it } from 'vitest';
import {
  bundleText,
  codeCacheFile,
  decodeCodeCache,
  encodeCodeCache,
  offerCodeCacheSave,
  runtimeTag,
  saveCodeCacheIfOffered,
} from './code-cache';

const runtime = { node: 'v20.20.2', v8: '11.3.244.8-node.33', arch: 'x64', execArgv: [] };

describe('code cache', () => {
  it('is named by bundle and runtime; another node, V8, architecture or flag is another file', () => {
    const tag = runtimeTag(runtime);
    expect(tag).toMatch(/^[0-9a-f]{12}$/);
    expect(runtimeTag({ ...runtime })).toBe(tag);
    for (const other of [
      { ...runtime, node: 'v20.20.3' },
      { ...runtime, v8: '11.3.244.9-node.33' },
      { ...runtime, arch: 'arm64' },
      { ...runtime, execArgv: ['--max-old-space-size=512'] },
    ])
      expect(runtimeTag(other)).not.toBe(tag);
    const file = codeCacheFile('/x/engine.0123456789abcdef.js', tag);
    expect(file).toBe(`/x/engine.0123456789abcdef.js.${tag}.v8cache`);
    expect(() => codeCacheFile('/x/engine.js', '../../etc')).toThrow(/bad runtime tag/);
  });

  it('decodes what it encoded', () => {
    const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const decoded = decodeCodeCache(encodeCodeCache(payload));
    expect(decoded).toEqual({ ok: true, data: payload });
  });

  it('refuses an empty, truncated, foreign or damaged file', () => {
    const file = encodeCodeCache(Buffer.from('v8 cached data, as V8 would make it'));
    expect(decodeCodeCache(Buffer.alloc(0))).toEqual({ ok: false, reason: 'too short' });
    expect(decodeCodeCache(file.subarray(0, 40))).toEqual({ ok: false, reason: 'too short' });
    expect(decodeCodeCache(file.subarray(0, file.length - 1))).toEqual({
      ok: false,
      reason: 'checksum mismatch',
    });
    const flipped = Buffer.from(file);
    flipped[flipped.length - 3]! ^= 0x40;
    expect(decodeCodeCache(flipped)).toEqual({ ok: false, reason: 'checksum mismatch' });
    // V8's data with no header of ours (or another program's file of that name).
    expect(decodeCodeCache(Buffer.alloc(4096, 7))).toEqual({ ok: false, reason: 'not a code cache' });
  });

  it('reads the bundle as UTF-8 would, ASCII or not', () => {
    for (const text of ['var a = "x";\n', '// — a comment\nvar b = "\u00e9";\n', ''])
      expect(bundleText(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it('saves once, when the launcher offered it; without a launcher nothing happens', () => {
    saveCodeCacheIfOffered(); // tsx, or node on the bundle: no launcher
    let saves = 0;
    offerCodeCacheSave(() => saves++);
    saveCodeCacheIfOffered();
    saveCodeCacheIfOffered();
    expect(saves).toBe(1);
  });
});
