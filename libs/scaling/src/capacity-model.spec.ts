import { describe, expect, it } from 'vitest';
import { CapacityModel, sustainableRate } from './capacity-model';
import { steadySamples } from './test-support/inputs';

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
});
