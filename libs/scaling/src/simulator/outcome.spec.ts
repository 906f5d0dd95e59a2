import { describe, expect, it } from 'vitest';
import { countActionsToConverge, countOscillations, countReversals, type ScaleAction } from './outcome';

const action = (timeSeconds: number, from: number, to: number, inputRate: number): ScaleAction => ({
  timeSeconds,
  from,
  to,
  inputRate,
  reason: '',
});

describe('oscillation counter', () => {
  it('counts a reversal within 10 minutes while the input moved less than 10 %', () => {
    expect(countOscillations([action(0, 4, 8, 5000), action(300, 8, 4, 5200)])).toBe(1);
  });

  it('does not count a reversal after 10 minutes', () => {
    expect(countOscillations([action(0, 4, 8, 5000), action(601, 8, 4, 5000)])).toBe(0);
  });

  it('does not count a reversal that follows a 10 % change in input', () => {
    expect(countOscillations([action(0, 4, 8, 5000), action(300, 8, 4, 4500)])).toBe(0);
    expect(countOscillations([action(0, 8, 4, 5000), action(300, 4, 8, 5600)])).toBe(0);
  });

  it('does not count moves in the same direction, and judges each action against the previous one', () => {
    expect(countOscillations([action(0, 4, 6, 5000), action(60, 6, 8, 5000)])).toBe(0);
    expect(countOscillations([action(0, 4, 8, 5000), action(100, 8, 4, 5000), action(200, 4, 8, 5000)])).toBe(
      2,
    );
  });
});

describe('actions to converge', () => {
  const input = [
    { at: 0, rate: 1000 },
    { at: 100, rate: 1000 },
    { at: 101, rate: 3000 },
    { at: 400, rate: 3000 },
    { at: 401, rate: 1000 },
  ];

  it('counts actions from the step until the lag is back under the objective and actions stop', () => {
    const lag = new Float64Array(500).fill(10);
    for (let s = 110; s < 200; s++) lag[s] = 90;
    // The trim at 250 (after the lag recovered) counts; the one after the next input change does not.
    const actions = [
      action(105, 2, 4, 3000),
      action(150, 4, 6, 3000),
      action(250, 6, 5, 3000),
      action(450, 5, 2, 1000),
    ];
    expect(countActionsToConverge(actions, lag, 60, input, 100, 500)).toBe(3);
  });

  it('counts an action that kept the lag under the objective, and is null without a step', () => {
    const lag = new Float64Array(500).fill(10);
    expect(countActionsToConverge([action(105, 2, 4, 3000)], lag, 60, input, 100, 500)).toBe(1);
    expect(countActionsToConverge([], lag, 60, input, 100, 500)).toBe(0);
    expect(countActionsToConverge([], lag, 60, input, undefined, 500)).toBeNull();
  });
});

describe('reversal counter (the frontier definition)', () => {
  const flat = (n: number, rate: number) => new Float64Array(n).fill(rate);

  it('counts opposite actions within 15 minutes while the input stayed within 10 %', () => {
    expect(countReversals([action(0, 4, 8, 5000), action(800, 8, 4, 5000)], flat(2000, 5000))).toBe(1);
  });

  it('looks past an action in between, unlike the consecutive-only oscillation count', () => {
    const actions = [action(0, 4, 8, 5000), action(100, 8, 10, 5000), action(700, 10, 6, 5000)];
    expect(countReversals(actions, flat(2000, 5000))).toBe(2);
    expect(countOscillations(actions)).toBe(1);
  });

  it('does not count when the input moved 10 % at any second in between, even if it came back', () => {
    const rates = flat(2000, 5000);
    rates[400] = 5600;
    expect(countReversals([action(0, 4, 8, 5000), action(800, 8, 4, 5000)], rates)).toBe(0);
  });

  it('counts actions timed in fractions of a second (live runs) like whole seconds', () => {
    expect(countReversals([action(1800.4, 2, 4, 700), action(1979.7, 4, 1, 700)], flat(2400, 700))).toBe(1);
    const rates = flat(2400, 700);
    rates[1900] = 2800;
    expect(countReversals([action(1800.4, 2, 4, 700), action(1979.7, 4, 1, 700)], rates)).toBe(0);
  });

  it('does not count after 15 minutes', () => {
    expect(countReversals([action(0, 4, 8, 5000), action(901, 8, 4, 5000)], flat(2000, 5000))).toBe(0);
  });
});
