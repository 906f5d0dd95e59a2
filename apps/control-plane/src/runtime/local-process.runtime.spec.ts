import { describe, expect, it } from 'vitest';
import { keepsStandbyOnForget } from './local-process.runtime';

describe('keepsStandbyOnForget', () => {
  it('keeps a standby of another checkpoint lineage: a new checkpoint waits through the old instance being forgotten', () => {
    expect(keepsStandbyOnForget(1, 0)).toBe(true);
    expect(keepsStandbyOnForget(3, 2)).toBe(true);
    // An instance from before lineages were recorded runs on epoch 0.
    expect(keepsStandbyOnForget(1, undefined)).toBe(true);
  });

  it('drops a standby of the same lineage: its predecessor was stopped or scaled in, not upgraded', () => {
    expect(keepsStandbyOnForget(0, 0)).toBe(false);
    expect(keepsStandbyOnForget(2, 2)).toBe(false);
    expect(keepsStandbyOnForget(0, undefined)).toBe(false);
  });
});
