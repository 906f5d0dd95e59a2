import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { minorCollection } from './idle-collection';
import { PRE_SLOT_COLLECTION_LEAD_MS, PreSlotCollection } from './pre-slot-collection';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const youngUsed = () =>
  v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_used_size;

describe('minorCollection', () => {
  it('empties the young generation of what nothing references', () => {
    const collect = minorCollection();
    collect();
    let garbage: unknown[] | undefined = Array.from({ length: 20_000 }, (_, i) => ({ i }));
    const filled = youngUsed();
    garbage = undefined;
    collect();
    expect(garbage).toBeUndefined();
    expect(youngUsed()).toBeLessThan(filled / 4);
  });
});

describe('PreSlotCollection', () => {
  it('collects once, the lead before the slot, and says how long it took', async () => {
    const at: number[] = [];
    const pre = new PreSlotCollection(30, () => at.push(Date.now()));
    const slot = Date.now() + 80;
    pre.scheduleBefore(slot, () => true);
    await sleep(20);
    expect(at).toEqual([]);
    await sleep(90);
    expect(at).toHaveLength(1);
    expect(at[0]).toBeGreaterThanOrEqual(slot - 30 - 2);
    expect(at[0]).toBeLessThan(slot);
    expect(pre.lastMs).toBeGreaterThanOrEqual(0);
  });

  it('none when the slot is closer than the lead: the pause would land in the evaluation', async () => {
    let runs = 0;
    const pre = new PreSlotCollection(50, () => runs++);
    pre.scheduleBefore(Date.now() + 20, () => true);
    await sleep(60);
    expect(runs).toBe(0);
  });

  it('none when its timer fires too late, or when no longer wanted (a follower, a pass still running)', async () => {
    let runs = 0;
    let skew = 0;
    const late = new PreSlotCollection(
      40,
      () => runs++,
      () => Date.now() + skew,
    );
    late.scheduleBefore(Date.now() + 60, () => true);
    skew = 30; // the loop was held: at the timer, 40 − 30 = 10 ms are left, under half the lead
    const unwanted = new PreSlotCollection(40, () => runs++);
    unwanted.scheduleBefore(Date.now() + 60, () => false);
    await sleep(80);
    expect(runs).toBe(0);
  });

  it('a new schedule replaces the waiting one; cancel drops it', async () => {
    let runs = 0;
    const pre = new PreSlotCollection(20, () => runs++);
    pre.scheduleBefore(Date.now() + 40, () => true);
    pre.scheduleBefore(Date.now() + 50, () => true);
    await sleep(70);
    expect(runs).toBe(1);
    pre.scheduleBefore(Date.now() + 40, () => true);
    pre.cancel();
    await sleep(60);
    expect(runs).toBe(1);
  });

  it('a lead of 0 never collects; at the default lead, none before a slot 200 ms away (the shortest interval)', async () => {
    let runs = 0;
    new PreSlotCollection(0, () => runs++).scheduleBefore(Date.now() + 20, () => true);
    new PreSlotCollection(PRE_SLOT_COLLECTION_LEAD_MS, () => runs++).scheduleBefore(
      Date.now() + 200,
      () => true,
    );
    await sleep(230);
    expect(runs).toBe(0);
  });
});
