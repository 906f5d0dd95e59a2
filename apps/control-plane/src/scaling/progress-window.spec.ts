import { describe, expect, it } from 'vitest';
import { lagSample } from './progress-window';

describe('lagSample', () => {
  it('keeps every partition end offset in topic and partition order, whatever order the poll had', () => {
    const part = (topic: string, partition: number, endOffset: number) => ({
      topic,
      partition,
      committedOffset: endOffset - 5,
      endOffset,
      recordsBehind: 5,
      secondsBehind: partition,
    });
    const sample = lagSample([part('b', 0, 40), part('a', 1, 20), part('a', 0, 10)], 1000);
    expect(sample).toEqual({
      timeMs: 1000,
      records: 15,
      seconds: 1,
      endOffsets: 70,
      partitionEndOffsets: [10, 20, 40],
    });
  });
});
