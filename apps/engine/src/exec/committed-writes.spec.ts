import { describe, expect, it } from 'vitest';
import type { RecordMetadata } from 'kafkajs';
import { CommittedWrites, writesVisible } from './committed-writes';

const meta = (topicName: string, partition: number, baseOffset?: string): RecordMetadata => ({
  topicName,
  partition,
  errorCode: 0,
  ...(baseOffset === undefined ? {} : { baseOffset }),
});

describe('CommittedWrites', () => {
  it('keeps the highest base offset per partition of each topic', () => {
    const w = new CommittedWrites();
    w.note([meta('r', 0, '5'), meta('r', 1, '2'), meta('s', 0, '9')]);
    w.note([meta('r', 0, '3'), meta('r', 1, '7')]);
    expect([...w.of('r')]).toEqual([
      [0, 5],
      [1, 7],
    ]);
    expect([...w.of('s')]).toEqual([[0, 9]]);
    expect(w.of('unknown').size).toBe(0);
  });

  it('ignores answers without a usable base offset', () => {
    const w = new CommittedWrites();
    w.note([meta('r', 0), meta('r', 1, '-1'), meta('r', 2, 'x')]);
    expect(w.of('r').size).toBe(0);
  });
});

describe('writesVisible', () => {
  const ends = (...latest: number[]) => new Map(latest.map((l, p) => [p, { latest: l }]));

  it('is true only once every written partition lists an end past its base offset', () => {
    const written = new Map([
      [0, 4],
      [1, 10],
    ]);
    expect(writesVisible(written, ends(5, 11))).toBe(true);
    // The commit is answered but its marker is not written: the end still stops at the batch.
    expect(writesVisible(written, ends(5, 10))).toBe(false);
    expect(writesVisible(written, ends(4, 11))).toBe(false);
  });

  it('is true with nothing written and false when the topic was not listed', () => {
    expect(writesVisible(new Map(), undefined)).toBe(true);
    expect(writesVisible(new Map([[0, 0]]), undefined)).toBe(false);
  });
});
