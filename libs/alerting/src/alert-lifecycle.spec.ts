// Alert lifecycle transitions, following prometheus/prometheus rules/alerting.go
// (AlertingRule.Eval: pending → firing after `for`, pending dropped when the condition clears,
// firing kept as resolved for resolvedRetention = 15 m).
import { describe, expect, it } from 'vitest';
import { alertKey, INACTIVE, step, type AlertState, type AlertTransition } from './index';

const MIN = 60_000;
const T0 = 1_700_000_000_000;
const RULE = { name: 'lag-burn', forMs: 5 * MIN };

/** Runs [minutes after T0, condition] evaluations and returns the transitions and final state. */
function run(evals: ReadonlyArray<readonly [number, boolean]>, rule = RULE, from: AlertState = INACTIVE) {
  let state = from;
  const transitions: AlertTransition[] = [];
  for (const [minute, cond] of evals) {
    const r = step(state, cond, T0 + minute * MIN, rule);
    state = r.state;
    transitions.push(r.transition);
  }
  return { state, transitions };
}

describe('alert lifecycle (Prometheus AlertingRule.Eval semantics)', () => {
  it('inactive → pending → firing once `for` has elapsed (>=), then stays firing', () => {
    const { state, transitions } = run([
      [0, true],
      [4, true],
      [5, true],
      [6, true],
    ]);
    expect(transitions).toEqual(['pending', 'none', 'firing', 'none']);
    expect(state).toEqual({ phase: 'firing', activeAtMs: T0, firedAtMs: T0 + 5 * MIN, resolvedAtMs: null });
  });

  it('for: 0 fires on the first true evaluation', () => {
    const r = step(INACTIVE, true, T0, { name: 'r', forMs: 0 });
    expect(r.transition).toBe('firing');
    expect(r.state).toEqual({ phase: 'firing', activeAtMs: T0, firedAtMs: T0, resolvedAtMs: null });
  });

  it('a pending alert whose condition clears goes back to inactive without firing', () => {
    const { state, transitions } = run([
      [0, true],
      [3, false],
    ]);
    expect(transitions).toEqual(['pending', 'cleared']);
    expect(state).toEqual(INACTIVE);
  });

  it('the `for` timer restarts after a pending alert clears', () => {
    const { state, transitions } = run([
      [0, true],
      [3, false],
      [4, true],
      [8, true],
      [9, true],
    ]);
    expect(transitions).toEqual(['pending', 'cleared', 'pending', 'none', 'firing']);
    expect(state.activeAtMs).toBe(T0 + 4 * MIN);
  });

  it('firing → resolved when the condition clears; kept 15 minutes (strictly more expires it)', () => {
    const { state, transitions } = run([
      [0, true],
      [5, true],
      [10, false],
      [20, false],
      [25, false],
      [26, false],
    ]);
    expect(transitions).toEqual(['pending', 'firing', 'resolved', 'none', 'none', 'expired']);
    expect(state).toEqual(INACTIVE);
  });

  it('a resolved alert keeps when it fired and resolved', () => {
    const { state } = run([
      [0, true],
      [5, true],
      [10, false],
    ]);
    expect(state).toEqual({
      phase: 'resolved',
      activeAtMs: T0,
      firedAtMs: T0 + 5 * MIN,
      resolvedAtMs: T0 + 10 * MIN,
    });
  });

  it('a resolved alert whose condition returns starts a new episode at pending', () => {
    const { state, transitions } = run([
      [0, true],
      [5, true],
      [10, false],
      [12, true],
    ]);
    expect(transitions).toEqual(['pending', 'firing', 'resolved', 'pending']);
    expect(state).toEqual({
      phase: 'pending',
      activeAtMs: T0 + 12 * MIN,
      firedAtMs: null,
      resolvedAtMs: null,
    });
  });

  it('resolved → firing directly only when `for` is 0', () => {
    const rule = { name: 'r', forMs: 0 };
    const { transitions } = run(
      [
        [0, true],
        [1, false],
        [2, true],
      ],
      rule,
    );
    expect(transitions).toEqual(['firing', 'resolved', 'firing']);
  });

  it('the resolved retention is a rule parameter', () => {
    const rule = { name: 'r', forMs: 0, resolvedRetentionMs: MIN };
    const { transitions } = run(
      [
        [0, true],
        [1, false],
        [2, false],
        [3, false],
      ],
      rule,
    );
    expect(transitions).toEqual(['firing', 'resolved', 'none', 'expired']);
  });

  it('inactive with a false condition is a no-op returning the same state', () => {
    const r = step(INACTIVE, false, T0, RULE);
    expect(r).toEqual({ state: INACTIVE, transition: 'none' });
    expect(r.state).toBe(INACTIVE);
  });

  it('one alert per (query, rule): keys are distinct and unambiguous', () => {
    expect(alertKey('q1', 'lag')).not.toBe(alertKey('q1', 'stall'));
    expect(alertKey('q1', 'lag')).not.toBe(alertKey('q2', 'lag'));
    expect(alertKey('a:b', 'c')).not.toBe(alertKey('a', 'b:c'));
    expect(alertKey('q1', 'lag')).toBe(alertKey('q1', 'lag'));
  });

  it('alerts of different keys evolve independently', () => {
    const states = new Map<string, AlertState>();
    const evaluate = (queryId: string, cond: boolean, minute: number) => {
      const key = alertKey(queryId, RULE.name);
      const r = step(states.get(key) ?? INACTIVE, cond, T0 + minute * MIN, RULE);
      states.set(key, r.state);
      return r.transition;
    };
    expect(evaluate('q1', true, 0)).toBe('pending');
    expect(evaluate('q2', false, 0)).toBe('none');
    expect(evaluate('q1', true, 5)).toBe('firing');
    expect(evaluate('q2', true, 5)).toBe('pending');
    expect(states.get(alertKey('q1', RULE.name))!.phase).toBe('firing');
    expect(states.get(alertKey('q2', RULE.name))!.phase).toBe('pending');
  });
});
