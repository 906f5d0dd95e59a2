import { describe, expect, it } from 'vitest';
import { inputsText, MAX_INPUTS } from './decision-inputs';

describe('inputsText', () => {
  it('shows every input as name=value, strings quoted and nulls named', () => {
    expect(inputsText({ partitions: 2, policy: 'sluice', lagSeconds: null, scaled: false })).toBe(
      'partitions=2 policy="sluice" lagSeconds=null scaled=false',
    );
  });

  it('keeps the late inputs a cut of the JSON text lost', () => {
    const inputs = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`input${i}`, i * 1000.5]));
    expect(inputsText(inputs)).toContain('input29=29014.5');
  });

  it('bounds the number of inputs shown', () => {
    const inputs = Object.fromEntries(Array.from({ length: MAX_INPUTS + 5 }, (_, i) => [`k${i}`, i]));
    expect(inputsText(inputs).split(' ')).toHaveLength(MAX_INPUTS);
  });

  it('shows anything not an object as JSON', () => {
    expect(inputsText([1, 2])).toBe('[1,2]');
    expect(inputsText(null)).toBe('null');
    expect(inputsText(undefined)).toBe('');
  });
});
