import { describe, expect, it } from 'vitest';
import { cpuLimitProblem, MAX_CPU_LIMIT, MIN_CPU_LIMIT, parseCpuLimit } from './cpu-limit';

describe('cpu limit bounds', () => {
  it('accepts cores and millicores within the bounds, and "none"', () => {
    expect(parseCpuLimit('0.25')).toBe(0.25);
    expect(parseCpuLimit('250m')).toBe(0.25);
    expect(parseCpuLimit(' 2 ')).toBe(2);
    expect(parseCpuLimit(String(MIN_CPU_LIMIT))).toBe(MIN_CPU_LIMIT);
    expect(parseCpuLimit(String(MAX_CPU_LIMIT))).toBe(MAX_CPU_LIMIT);
    expect(parseCpuLimit('none')).toBeNull();
  });

  it('refuses anything else with a message naming the field and the bounds', () => {
    for (const bad of ['0', '5m', '65', '-1', 'lots', '', '1e3', '0.5 cores', 'NaN'])
      expect(() => parseCpuLimit(bad), bad).toThrow(/cpuLimit .*0\.01.*64/);
    expect(cpuLimitProblem(0.5)).toBeNull();
    expect(cpuLimitProblem(Number.NaN)).toMatch(/cpuLimit/);
  });
});
