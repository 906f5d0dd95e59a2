import { describe, expect, it } from 'vitest';
import { STEPS, UPGRADE_PAUSE_STEP } from '../operations/operation-types';
import { newCheckpointRecord, prestartStep, type PrestartInput } from './prestart-plan';

const inPlace: PrestartInput = {
  strategy: 'in-place',
  startingOffsets: null,
  flush: false,
  from: { version: 1, checkpointEpoch: 0 },
  to: { version: 2, checkpointEpoch: 0 },
};
const continuing: PrestartInput = {
  strategy: 'new-checkpoint',
  startingOffsets: 'continue',
  flush: true,
  from: { version: 2, checkpointEpoch: 1 },
  to: { version: 3, checkpointEpoch: 2 },
};
const at = new Date('2026-12-03T02:00:00.000Z');

describe('prestartStep', () => {
  it('pre-starts in the drain step, in place and on a new checkpoint without a flush', () => {
    expect(prestartStep(inPlace, 'on')).toBe(STEPS.upgrade[1]);
    expect(prestartStep({ ...continuing, flush: false }, 'on')).toBe('drain old version');
  });

  it('pre-starts before the pause when the old version flushes first, so its sources are not paused longer', () => {
    expect(prestartStep(continuing, 'on')).toBe(UPGRADE_PAUSE_STEP);
  });

  it('does not pre-start when the setting is off', () => {
    expect(prestartStep(inPlace, 'off')).toBeNull();
    expect(prestartStep(continuing, 'off')).toBeNull();
  });
});

describe('newCheckpointRecord', () => {
  it('records nothing in place (the checkpoint stays)', () => {
    expect(newCheckpointRecord(inPlace, at)).toBeUndefined();
  });

  it('records a continuing checkpoint with the epoch it continues from', () => {
    expect(newCheckpointRecord(continuing, at)).toEqual({
      epoch: 2,
      createdAt: '2026-12-03T02:00:00.000Z',
      version: 3,
      startingOffsets: 'continue',
      continueFromEpoch: 1,
    });
  });

  it('records earliest and latest without a checkpoint to continue from', () => {
    for (const startingOffsets of ['earliest', 'latest'] as const)
      expect(newCheckpointRecord({ ...continuing, startingOffsets, flush: false }, at)).toEqual({
        epoch: 2,
        createdAt: '2026-12-03T02:00:00.000Z',
        version: 3,
        startingOffsets,
      });
  });
});
