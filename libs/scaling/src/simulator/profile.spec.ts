import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nominalRateAt, parseProfile, stepTime } from './profile';

const PROFILES = path.resolve(__dirname, '../../../../bench/profiles');

describe('profiles', () => {
  it('parses every shipped profile', () => {
    const names = readdirSync(PROFILES).filter((f) => f.endsWith('.json'));
    expect(names.sort()).toEqual(['diurnal.json', 'ramp.json', 'spike.json', 'step.json']);
    for (const name of names)
      expect(() => parseProfile(JSON.parse(readFileSync(path.join(PROFILES, name), 'utf8')))).not.toThrow();
  });

  it('names the bad field', () => {
    expect(() => parseProfile({ name: 'x' })).toThrow(/instance must be an object/);
    const ok = JSON.parse(readFileSync(path.join(PROFILES, 'step.json'), 'utf8')) as Record<string, unknown>;
    expect(() => parseProfile({ ...ok, partitions: 2.5 })).toThrow(/partitions must be an integer/);
    expect(() =>
      parseProfile({
        ...ok,
        input: [
          { at: 10, rate: 1 },
          { at: 5, rate: 1 },
        ],
      }),
    ).toThrow(/sorted/);
  });

  it('interpolates the input rate and finds the step', () => {
    const input = [
      { at: 0, rate: 100 },
      { at: 100, rate: 300 },
      { at: 101, rate: 900 },
    ];
    expect(nominalRateAt(input, -5)).toBe(100);
    expect(nominalRateAt(input, 50)).toBe(200);
    expect(nominalRateAt(input, 500)).toBe(900);
    const step = parseProfile(JSON.parse(readFileSync(path.join(PROFILES, 'step.json'), 'utf8')));
    expect(stepTime(step)).toBe(3600);
    const ramp = parseProfile(JSON.parse(readFileSync(path.join(PROFILES, 'ramp.json'), 'utf8')));
    expect(stepTime(ramp)).toBeUndefined();
  });
});
