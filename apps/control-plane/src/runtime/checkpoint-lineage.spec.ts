import { describe, expect, it } from 'vitest';
import { checkpointLaunch, localCheckpointPath, nextCheckpointEpoch } from './checkpoint-lineage';
import { checkpointLineageArgs, type InstanceLaunch } from './runtime-driver';

const q = 'f5a3c0de-0000-4000-8000-000000000001';

describe('checkpoint lineages', () => {
  it('keeps the first checkpoint where it always was and puts later ones beside it', () => {
    expect(localCheckpointPath('/home/s', q, 0)).toBe(`/home/s/checkpoints/${q}`);
    expect(localCheckpointPath('/home/s', q, 2)).toBe(`/home/s/checkpoints/${q}.c2`);
  });

  it('never reuses an epoch', () => {
    expect(nextCheckpointEpoch([], 0)).toBe(1);
    const records = [{ epoch: 3, createdAt: '', version: 2, startingOffsets: 'earliest' as const }];
    expect(nextCheckpointEpoch(records, 0)).toBe(4); // back on epoch 0 after a rollback: 3 stays taken
    expect(nextCheckpointEpoch(records, 5)).toBe(6);
  });

  it('launches a continuing checkpoint with where it continues from, and an earliest one with its start', () => {
    const checkpoints = [
      { epoch: 1, createdAt: '', version: 3, startingOffsets: 'continue', continueFromEpoch: 0 },
      { epoch: 2, createdAt: '', version: 4, startingOffsets: 'earliest' },
    ];
    expect(checkpointLaunch({ id: q, checkpointEpoch: 0, checkpoints }, '/h')).toEqual({
      checkpointUri: `/h/checkpoints/${q}`,
      checkpointEpoch: 0,
      startingOffsets: null,
      continueFrom: null,
    });
    expect(checkpointLaunch({ id: q, checkpointEpoch: 1, checkpoints }, '/h')).toEqual({
      checkpointUri: `/h/checkpoints/${q}.c1`,
      checkpointEpoch: 1,
      startingOffsets: null,
      continueFrom: { epoch: 0, checkpointUri: `/h/checkpoints/${q}` },
    });
    expect(checkpointLaunch({ id: q, checkpointEpoch: 2, checkpoints }, '/h')).toMatchObject({
      checkpointEpoch: 2,
      startingOffsets: 'earliest',
      continueFrom: null,
    });
  });

  it('renders the engine flags of a lineage (none for the first checkpoint)', () => {
    const base = { checkpointUri: '/c', version: 1 } as InstanceLaunch;
    expect(checkpointLineageArgs(base)).toEqual([]);
    expect(
      checkpointLineageArgs({
        ...base,
        checkpointEpoch: 2,
        continueFrom: { epoch: 1, checkpointUri: '/c1' },
      }),
    ).toEqual(['--checkpoint-epoch', '2', '--continue-from-epoch', '1', '--continue-from', '/c1']);
    // Pods reach every lineage through their one checkpoint database: no --continue-from.
    expect(
      checkpointLineageArgs(
        { ...base, checkpointEpoch: 2, continueFrom: { epoch: 1, checkpointUri: '/c1' } },
        null,
      ),
    ).toEqual(['--checkpoint-epoch', '2', '--continue-from-epoch', '1']);
    expect(checkpointLineageArgs({ ...base, checkpointEpoch: 1, startingOffsets: 'latest' })).toEqual([
      '--checkpoint-epoch',
      '1',
      '--starting-offsets',
      'latest',
    ]);
  });
});
