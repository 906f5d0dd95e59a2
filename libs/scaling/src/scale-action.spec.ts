import { describe, expect, it } from 'vitest';
import { decideScaleAction, offsetsPerTrigger, wantsToScale, type ScaleActionInput } from './scale-action';

const base: ScaleActionInput = {
  mode: 'auto',
  backpressure: false,
  currentInstances: 2,
  decision: { instances: 3 },
  limits: { minInstances: 1, maxInstances: 8, partitions: 4 },
  triggerMs: 1000,
  nowMs: 1_000_000,
  cooldownMs: 60_000,
  upHoldMs: 15_000,
  lastScale: null,
  activeOperation: null,
  operatorRateLimit: null,
  sentRateLimit: undefined,
};
const decide = (over: Partial<ScaleActionInput>) => decideScaleAction({ ...base, ...over });

describe('decideScaleAction', () => {
  it('scales in auto mode to what the policy decided', () => {
    expect(decide({})).toMatchObject({ target: 3, direction: 'up', scale: true, notes: [] });
  });

  it('only records the decision in observe mode', () => {
    expect(decide({ mode: 'observe' })).toMatchObject({ target: 3, direction: 'up', scale: false });
  });

  it('clamps to the partitions, the maximum and the minimum, and says so', () => {
    const wide = decide({ decision: { instances: 12 } });
    expect(wide).toMatchObject({ target: 4, scale: true });
    expect(wide.notes[0]).toBe('clamped 12 to 4 (min 1, max 4, 4 partitions)');
    expect(
      decide({ decision: { instances: 0 }, limits: { minInstances: 2, maxInstances: 8, partitions: 4 } }),
    ).toMatchObject({
      target: 2,
      direction: 'none',
      scale: false,
    });
    // An explicit minimum above the partition count is honoured (the library's upper bound).
    expect(
      decide({ decision: { instances: 1 }, limits: { minInstances: 3, maxInstances: 8, partitions: 2 } })
        .target,
    ).toBe(3);
  });

  it('holds a scale action back during the cooldown, and acts once it has passed', () => {
    const ago = (ms: number, direction: 'up' | 'down') => ({ atMs: base.nowMs - ms, direction });
    const down = { currentInstances: 3, decision: { instances: 2 } };
    const held = decide({ ...down, lastScale: ago(30_000, 'down') });
    expect(held.scale).toBe(false);
    expect(held.notes).toEqual(['cooldown: last scale action (down) 30 s ago (< 60 s)']);
    expect(decide({ ...down, lastScale: ago(60_000, 'down') }).scale).toBe(true);
    expect(decide({ ...down, lastScale: ago(1, 'down'), cooldownMs: 0 }).scale).toBe(true);
  });

  it('lets a scale-up follow any scale action after the shorter wait; a scale-down waits the cooldown', () => {
    const ago = (ms: number, direction: 'up' | 'down') => ({ atMs: base.nowMs - ms, direction });
    // Up after up: held for 15 s, not 60.
    const soon = decide({ lastScale: ago(10_000, 'up') });
    expect(soon.scale).toBe(false);
    expect(soon.notes).toEqual(['cooldown: last scale action (up) 10 s ago (< 15 s before a scale-up)']);
    expect(decide({ lastScale: ago(15_000, 'up') }).scale).toBe(true);
    // Up after down (the load came back): 15 s too, as the HPA does not damp a scale-up.
    expect(decide({ lastScale: ago(10_000, 'down') }).scale).toBe(false);
    expect(decide({ lastScale: ago(15_000, 'down') }).scale).toBe(true);
    // Down after up (a reversal) and down after down: the whole cooldown.
    const down = { currentInstances: 3, decision: { instances: 2 } };
    expect(decide({ ...down, lastScale: ago(30_000, 'up') }).scale).toBe(false);
    expect(decide({ ...down, lastScale: ago(30_000, 'down') }).scale).toBe(false);
    expect(decide({ ...down, lastScale: ago(60_000, 'up') }).scale).toBe(true);
    // A cooldown shorter than the scale-up wait bounds it.
    expect(decide({ lastScale: ago(3_000, 'up'), cooldownMs: 2_000 }).scale).toBe(true);
  });

  it('never scales while another operation of the query is in progress', () => {
    const busy = decide({ activeOperation: { id: 'op-1', type: 'deploy' } });
    expect(busy.scale).toBe(false);
    expect(busy.notes).toEqual(['skipped: operation op-1 (deploy) is in progress']);
  });

  it('sends the PID cap in offsets per trigger, never above the operator limit', () => {
    const capped = decide({
      backpressure: true,
      decision: { instances: 2, rateLimit: 1500 },
      triggerMs: 2000,
    });
    expect(capped.pidOffsetsPerTrigger).toBe(3000);
    expect(capped.sendRateLimit).toEqual({ value: 3000 });
    const operator = decide({
      backpressure: true,
      decision: { instances: 2, rateLimit: 1500 },
      triggerMs: 2000,
      operatorRateLimit: 1000,
    });
    expect(operator.sendRateLimit).toEqual({ value: 1000 });
  });

  it('sends nothing it already sent, and gives the operator limit back when the cap goes away', () => {
    expect(
      decide({ backpressure: true, decision: { instances: 2, rateLimit: 1000 }, sentRateLimit: 1000 })
        .sendRateLimit,
    ).toBeNull();
    expect(
      decide({ backpressure: true, decision: { instances: 2 }, sentRateLimit: 1000 }).sendRateLimit,
    ).toEqual({
      value: null,
    });
    expect(
      decide({ backpressure: true, decision: { instances: 2 }, sentRateLimit: 1000, operatorRateLimit: 500 })
        .sendRateLimit,
    ).toEqual({ value: 500 });
    // Never sent and no cap of its own: the operator's limit stays as the operator set it.
    expect(decide({ decision: { instances: 2 }, operatorRateLimit: 500 }).sendRateLimit).toBeNull();
    // Backpressure off, or observe mode: no cap.
    expect(decide({ decision: { instances: 2, rateLimit: 1000 } }).pidOffsetsPerTrigger).toBeUndefined();
    expect(
      decide({ mode: 'observe', backpressure: true, decision: { instances: 2, rateLimit: 1000 } })
        .pidOffsetsPerTrigger,
    ).toBeUndefined();
  });
});

describe('helpers', () => {
  it('convert a read rate to offsets per trigger, at least 1', () => {
    expect(offsetsPerTrigger(100, 500)).toBe(50);
    expect(offsetsPerTrigger(0.1, 100)).toBe(1);
  });
  it('need the gating facts only for a move in auto mode', () => {
    expect(wantsToScale('auto', 2, 3)).toBe(true);
    expect(wantsToScale('auto', 2, 2)).toBe(false);
    expect(wantsToScale('observe', 2, 3)).toBe(false);
  });
});
