import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CollectionLog, fullCollection, IdleCollection, idleCollectionDelayMs } from './idle-collection';

const turn = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('fullCollection', () => {
  it('collects what nothing references any more', async () => {
    const collect = fullCollection();
    // A WeakRef keeps its target until the job that made it ends: drop it a turn later.
    let target: object | undefined = { big: new Array(1000).fill(1) };
    const ref = new WeakRef(target);
    target = undefined;
    await turn();
    collect();
    expect(ref.deref()).toBeUndefined();
  });

  it('leaves the flag as it found it: no other context gets `gc`', async () => {
    fullCollection();
    const { runInNewContext } = await import('node:vm');
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});

describe('idleCollectionDelayMs', () => {
  it("3 s after an evaluation, before V8's memory reducer (8 s), at most half the interval", () => {
    expect(idleCollectionDelayMs(10_000)).toBe(3000);
    expect(idleCollectionDelayMs(600_000)).toBe(3000);
    expect(idleCollectionDelayMs(1000)).toBe(500);
    expect(idleCollectionDelayMs(201)).toBe(101);
  });
});

describe('IdleCollection', () => {
  it('collects once, the given time after an evaluation, and says how long it took', async () => {
    let runs = 0;
    const idle = new IdleCollection(() => runs++);
    idle.scheduleAfter(20);
    expect(runs).toBe(0);
    await sleep(60);
    expect(runs).toBe(1);
    expect(idle.lastMs).toBeGreaterThanOrEqual(0);
  });

  it('never collects inside the next evaluation: cancelled when it starts', async () => {
    let runs = 0;
    const idle = new IdleCollection(() => runs++);
    idle.scheduleAfter(30);
    idle.cancel();
    await sleep(60);
    expect(runs).toBe(0);
  });

  it('a new schedule replaces the waiting one, and 0 means never', async () => {
    let runs = 0;
    const idle = new IdleCollection(() => runs++);
    idle.scheduleAfter(10);
    idle.scheduleAfter(10);
    await sleep(50);
    expect(runs).toBe(1);
    idle.scheduleAfter(0);
    await sleep(30);
    expect(runs).toBe(1);
  });
});

describe('CollectionLog', () => {
  it("counts the collections inside a span and none of another span's", async () => {
    const log = new CollectionLog();
    try {
      const quiet = performance.now();
      await log.msWithin(0, quiet); // forget what came before
      const collect = fullCollection();
      // ~40 MB of live objects make a full collection take milliseconds.
      const live = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `k${i}` }));
      const from = performance.now();
      collect();
      const to = performance.now();
      expect(live.length).toBe(400_000);
      const inside = await log.msWithin(from, to);
      expect(inside).toBeGreaterThan(0);
      expect(inside).toBeLessThanOrEqual(Math.ceil(to - from));
      collect();
      expect(await log.msWithin(0, quiet)).toBe(0);
    } finally {
      log.close();
    }
  });
});
