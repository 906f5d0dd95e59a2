import { describe, expect, it } from 'vitest';
import type { CheckpointRecord } from '../runtime/checkpoint-lineage';
import { abandonRecord, lineageTopics, unusedLineage } from './unused-lineage';

const records: CheckpointRecord[] = [
  {
    epoch: 1,
    createdAt: '2026-12-01T00:00:00.000Z',
    version: 2,
    startingOffsets: 'continue',
    continueFromEpoch: 0,
  },
  { epoch: 2, createdAt: '2026-12-02T00:00:00.000Z', version: 3, startingOffsets: 'earliest' },
];
const at = new Date('2026-12-03T06:00:00.000Z');

describe('unusedLineage', () => {
  it('is the new checkpoint when the upgrade failed before making it desired', () => {
    expect(unusedLineage({ version: 1, checkpointEpoch: 0 }, { version: 2, checkpointEpoch: 1 }, true)).toBe(
      1,
    );
  });
  it('is none once the new version may have started, and never in place', () => {
    expect(
      unusedLineage({ version: 1, checkpointEpoch: 0 }, { version: 2, checkpointEpoch: 1 }, false),
    ).toBeNull();
    expect(
      unusedLineage({ version: 1, checkpointEpoch: 1 }, { version: 2, checkpointEpoch: 1 }, true),
    ).toBeNull();
  });
});

describe('abandonRecord', () => {
  it('marks the record abandoned and keeps every record (numbers are never reused)', () => {
    const out = abandonRecord(records, 2, [0, 1], at, 'cannot start instances: x')!;
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual(records[0]);
    expect(out[1]).toEqual({
      ...records[1],
      abandoned: { at: at.toISOString(), reason: 'cannot start instances: x' },
    });
  });
  it('changes nothing for a lineage never recorded or already abandoned', () => {
    expect(abandonRecord(records, 5, [0], at, 'r')).toBeNull();
    const once = abandonRecord(records, 2, [0], at, 'first')!;
    expect(abandonRecord(once, 2, [0], new Date(), 'second')).toBeNull();
  });
  it('refuses the lineage the query runs on or may roll back to', () => {
    expect(() => abandonRecord(records, 1, [1], at, 'r')).toThrow(/c1 is in use/);
  });
  it('bounds the reason it keeps', () => {
    expect(abandonRecord(records, 2, [], at, 'x'.repeat(2000))![1]!.abandoned!.reason).toHaveLength(500);
  });
});

describe('lineageTopics', () => {
  it("names the lineage's repartition topic and its file sources' prefix, not epoch 0's", () => {
    expect(lineageTopics('q1', 3)).toEqual({
      names: ['sluice.q1.c3.repartition'],
      prefixes: ['sluice.q1.c3.files.'],
    });
  });
});
