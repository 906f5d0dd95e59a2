import { describe, expect, it } from 'vitest';
import { CapacityModel, sustainableRate } from './capacity-model';
import { steadySamples } from './test-support/inputs';
import type { ProgressSample } from './types';

describe('CapacityModel', () => {
  it('needs a few batches before estimating', () => {
    const model = new CapacityModel(48);
    model.observe(steadySamples(0, 30, { rate: 3000, instances: 4 }));
    expect(model.estimate()).toBeUndefined();
  });

  it('recovers per-instance rate and overhead once batch sizes vary', () => {
    const model = new CapacityModel(48);
    model.observe([
      ...steadySamples(0, 300, { rate: 3000, instances: 4, capacity: 800, overheadSeconds: 0.4 }),
      ...steadySamples(300, 600, { rate: 6000, instances: 8, capacity: 800, overheadSeconds: 0.4 }),
      ...steadySamples(600, 900, { rate: 1500, instances: 8, capacity: 800, overheadSeconds: 0.4 }),
    ]);
    const estimate = model.estimate();
    expect(estimate?.perInstanceRate).toBeCloseTo(800, 0);
    expect(estimate?.overheadSeconds).toBeCloseTo(0.4, 2);
  });

  it('never fits a fixed cost above the shortest batch it saw', () => {
    // One instance; the line through these points crosses 0 rows at 0.80 s, above the 0.5 s
    // batch: the fixed cost is that batch's 0.5 s, and the per-row cost what is left of the mean.
    const batches: Array<[number, number]> = [
      [1000, 0.5],
      [1200, 2.6],
      [3000, 2.7],
      [3200, 2.8],
      [3100, 2.75],
      [2900, 2.65],
    ];
    const model = new CapacityModel(4);
    model.observe(
      batches.map(([rows, seconds], i) => ({
        timeMs: (i + 1) * 10_000,
        inputRowsPerSecond: rows / 10,
        processedRowsPerSecond: rows / seconds,
        batchDurationMs: seconds * 1000,
        numInputRows: rows,
        triggerMs: 10_000,
        instances: 1,
      })),
    );
    const estimate = model.estimate();
    expect(estimate?.overheadSeconds).toBe(0.5);
    const meanRows = 14_400 / 6;
    const meanSeconds = 14 / 6;
    expect(estimate?.perInstanceRate).toBeCloseTo(meanRows / (meanSeconds - 0.5), 6);
  });

  it('without variation assumes no overhead, which errs on the slow side', () => {
    const model = new CapacityModel(48);
    model.observe(steadySamples(0, 300, { rate: 3000, instances: 4, capacity: 1000, overheadSeconds: 0.5 }));
    const estimate = model.estimate();
    expect(estimate?.overheadSeconds).toBe(0);
    expect(estimate?.perInstanceRate).toBeLessThan(1000);
    expect(estimate?.perInstanceRate).toBeGreaterThan(900);
  });

  it('prices partition alignment into the sustainable rate', () => {
    const estimate = { perInstanceRate: 1000, overheadSeconds: 0.5, observations: 10 };
    // 12 and 13 instances sustain the same rate on 48 partitions; 16 sustain a third more.
    expect(sustainableRate(estimate, 13, 48, 10, 1)).toBeCloseTo(sustainableRate(estimate, 12, 48, 10, 1));
    expect(sustainableRate(estimate, 12, 48, 10, 1)).toBeCloseTo(12 * 950);
    expect(sustainableRate(estimate, 16, 48, 10, 0.8)).toBeCloseTo(16 * 750);
  });

  it('learns that instances get slower as the group grows, and extrapolates to unseen counts', () => {
    const model = new CapacityModel(48);
    // The busiest instance reads 7500 rows per batch in both phases; at 8 instances it is slower.
    model.observe([
      ...steadySamples(0, 600, { rate: 3000, instances: 4, capacity: 1000 }),
      ...steadySamples(600, 1200, { rate: 6000, instances: 8, capacity: 1000 * 2 ** -0.3 }),
    ]);
    const estimate = model.estimate();
    expect(estimate?.scalingExponent).toBeGreaterThan(0.2);
    expect(estimate?.scalingExponent).toBeLessThan(0.4);
    const at = (n: number) => estimate?.perInstanceRateAt?.(n) ?? Number.NaN;
    expect(at(8)).toBeLessThan(at(4));
    expect(at(16)).toBeLessThan(at(8));
    expect(estimate?.measuredCounts).toEqual([4, 8]);
    // The sustainable rate at 16 prices the fall in: below what 16 instances at the 8-instance rate give.
    const flat = { perInstanceRate: at(8), overheadSeconds: estimate?.overheadSeconds ?? 0, observations: 1 };
    if (!estimate) throw new Error('no estimate');
    expect(sustainableRate(estimate, 16, 48, 10, 1)).toBeLessThan(sustainableRate(flat, 16, 48, 10, 1));
  });

  it('does not fit batches its caller marks as draining a rebalance backlog', () => {
    const steady = steadySamples(0, 600, { rate: 3000, instances: 4, capacity: 1000 });
    // After a rebalance every instance drains its own backlog under the batch bound: long batches
    // of many rows that would read as a large fixed overhead.
    const draining = steadySamples(600, 700, { rate: 12_000, instances: 4, capacity: 1500 });
    const clean = new CapacityModel(48);
    clean.observe(steady);
    const skipping = new CapacityModel(48);
    skipping.observe(steady);
    skipping.observe(draining, { catchingUp: true });
    expect(skipping.estimate()).toEqual(clean.estimate());
    const fitting = new CapacityModel(48);
    fitting.observe([...steady, ...draining]);
    expect(fitting.estimate()).not.toEqual(clean.estimate());
    // Marked seen: offered again unmarked, they are still not fitted.
    skipping.observe(draining);
    expect(skipping.estimate()).toEqual(clean.estimate());
  });

  it("does not fit an interval holding a process's first batches: they run cold", () => {
    const steady = steadySamples(0, 600, { rate: 3000, instances: 4, capacity: 1000 }).map((s) => ({
      ...s,
      minProcessRowBatches: 50,
    }));
    // A new process's first three batches: few rows, long (the live 671 rows in 1,195 ms).
    const cold = [1, 2, 3].map((k) => ({
      ...steady[0]!,
      timeMs: 600_000 + k * 10_000,
      numInputRows: 700,
      inputRowsPerSecond: 70,
      batchDurationMs: 9_000,
      minProcessRowBatches: k,
    }));
    const clean = new CapacityModel(48);
    clean.observe(steady);
    const model = new CapacityModel(48);
    model.observe([...steady, ...cold]);
    expect(model.estimate()).toEqual(clean.estimate());
    // Its fourth is warm and fitted like any other.
    model.observe([{ ...cold[2]!, timeMs: 640_000, minProcessRowBatches: 4 }]);
    expect(model.estimate()).not.toEqual(clean.estimate());
  });

  it('assumes no fall from one instance count, nor from catch-up batches longer than the trigger', () => {
    const model = new CapacityModel(48);
    model.observe([
      ...steadySamples(0, 600, { rate: 3000, instances: 4, capacity: 1000 }),
      // 8 instances only ever seen draining: every batch longer than the trigger.
      ...steadySamples(600, 1200, { rate: 6000, instances: 8, capacity: 600 }),
    ]);
    const estimate = model.estimate();
    expect(estimate?.scalingExponent).toBeUndefined();
    expect(estimate?.perInstanceRateAt).toBeUndefined();
    // 4 is measured; 8, seen only draining, is not.
    expect(estimate?.measuredCounts).toEqual([4]);
  });

  it('fits the fixed batch cost on the rows the slowest instance read itself, not on an even share', () => {
    // 48 partitions, 6 of them hot at 2x (54 units of load): at 16 instances the busiest holds one
    // hot and two cold partitions (4 units), at 24 two hot ones (4 units): its rows barely fall
    // while the even share falls by a third. Engine: 0.5 s per batch + rows / 800.
    const hot = (fromS: number, toS: number, rate: number, instances: number): ProgressSample[] =>
      steadySamples(fromS, toS, { rate, instances }).map((s) => {
        const own = (s.numInputRows * 4) / 54;
        return { ...s, slowestBatchRows: own, batchDurationMs: Math.round((0.5 + own / 800) * 1000) };
      });
    const model = new CapacityModel(48);
    model.observe([...hot(0, 600, 5000, 16), ...hot(600, 900, 7000, 24), ...hot(900, 1200, 3000, 24)]);
    const own = model.estimate('own');
    expect(own?.overheadSeconds).toBeCloseTo(0.5, 2);
    expect(own?.perInstanceRate).toBeCloseTo(800, 0);
    // On the even share the same batches read as a fixed cost more than twice the engine's.
    expect(model.estimate()?.overheadSeconds).toBeGreaterThan(1);
  });

  it('sizes with the busiest share it is given instead of the even share', () => {
    const estimate = { perInstanceRate: 1000, overheadSeconds: 0.5, observations: 10 };
    // 24 instances on 48 partitions: the even share is 2/48; two hot partitions on one instance
    // make it 0.1 of the input.
    expect(sustainableRate(estimate, 24, 48, 10, 1)).toBeCloseTo(950 * 24);
    expect(sustainableRate(estimate, 24, 48, 10, 1, () => 0.1)).toBeCloseTo(9500);
  });
});
