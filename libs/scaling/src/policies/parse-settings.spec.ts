import { describe, expect, it } from 'vitest';
import { parsePolicySettings } from './parse-settings';

describe('parsePolicySettings', () => {
  it('accepts known options of known policies', () => {
    const r = parsePolicySettings({ sluice: { downHoldSeconds: 60 }, ds2: { targetUtilization: 0.7 } });
    expect(r).toEqual({
      ok: true,
      settings: { sluice: { downHoldSeconds: 60 }, ds2: { targetUtilization: 0.7 } },
    });
  });

  it('names the path of what it refuses', () => {
    expect(parsePolicySettings([])).toMatchObject({
      ok: false,
      error: 'must be a JSON object keyed by policy name',
    });
    expect(parsePolicySettings({ flink: {} })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^unknown policy "flink"/),
    });
    expect(parsePolicySettings({ sluice: { downHold: 60 } })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^sluice\.downHold: unknown option/),
    });
    expect(parsePolicySettings({ ds2: { targetUtilization: '0.7' } })).toEqual({
      ok: false,
      error: 'ds2.targetUtilization: must be a finite number',
    });
    expect(parsePolicySettings({ 'keda-lag': 5 })).toEqual({
      ok: false,
      error: 'keda-lag: must be an object of options',
    });
  });
});
