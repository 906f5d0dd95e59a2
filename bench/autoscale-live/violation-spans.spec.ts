// Spans of a live run over its lag objective (bench/autoscale-live/violation-spans.ts; bench-unit).
import { describe, expect, it } from 'vitest';
import { formatSpans, violationSpans, type LiveLagSample } from './violation-spans';

const sample = (liveMs: number, lagSeconds: number, desired = 2, running = 2): LiveLagSample => ({
  liveMs,
  lagSeconds,
  desired,
  running,
});

describe('live violation spans', () => {
  it('joins consecutive samples over the objective and ends a span at the first one back under', () => {
    const spans = violationSpans(
      [
        sample(1000, 1),
        sample(2000, 7, 4, 2),
        sample(3000, 9, 4, 3),
        sample(4000, 2, 4, 4),
        sample(5000, 6),
        sample(6000, 6.5, 1, 1),
      ],
      6,
      10,
    );
    expect(spans).toEqual([
      {
        fromSeconds: 20,
        toSeconds: 40,
        maxLagSeconds: 90,
        startInstances: { desired: 4, running: 2 },
        endInstances: { desired: 4, running: 3 },
      },
      // A lag equal to the objective is not over it; a span still open at the end stops at its last sample.
      {
        fromSeconds: 60,
        toSeconds: 60,
        maxLagSeconds: 65,
        startInstances: { desired: 1, running: 1 },
        endInstances: { desired: 1, running: 1 },
      },
    ]);
    expect(formatSpans(spans)).toBe(
      '20–40 s (max lag 90 s, instances desired/running 4/2 → 4/3), 60–60 s (max lag 65 s, instances desired/running 1/1 → 1/1)',
    );
  });

  it('says none when the lag never went over', () => {
    expect(violationSpans([sample(1000, 5.9)], 6, 10)).toEqual([]);
    expect(formatSpans([])).toBe('none');
  });
});
