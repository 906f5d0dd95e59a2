import { describe, expect, it } from 'vitest';
import { pausedMsIn, phasesOverlapped, placeboProbes, probesIn, servedWithin } from './probe-windows';

// Probes every 25 ms from 0 to 1,000 ms, each 5 ms long; p.startMs identifies a probe.
const probes = Array.from({ length: 40 }, (_, i) => ({ startMs: i * 25, endMs: i * 25 + 5 }));
const starts = (ps: ReadonlyArray<{ startMs: number }>) => ps.map((p) => p.startMs);

describe('probe windows', () => {
  it('takes the probes that overlap a window, edges exclusive', () => {
    const windows = [
      { startMs: 100, endMs: 150 },
      { startMs: 505, endMs: 506 },
    ];
    // 100 and 125 start inside; 150 starts at the window's end (not in); 500 ends at 505 (not in).
    expect(starts(probesIn(probes, windows))).toEqual([100, 125]);
    expect(starts(probesIn(probes, [{ startMs: 99, endMs: 101 }]))).toEqual([100]);
  });

  it('moves the windows and leaves out probes that touch a real one', () => {
    const windows = [
      { startMs: 100, endMs: 150 },
      { startMs: 300, endMs: 340 },
    ];
    expect(starts(placeboProbes(probes, windows, 500))).toEqual([600, 625, 800, 825]);
    // Moved onto the second real window: the overlap with it is left out, the rest kept.
    expect(starts(placeboProbes(probes, windows, 200))).toEqual([500, 525]);
    // Moved by less than a window's length: only what lies past the real window remains.
    expect(starts(placeboProbes(probes, windows, 30))).toEqual([150, 175, 350]);
  });

  it('names the evaluation phases a probe overlapped', () => {
    const evaluation = {
      startMs: 1000,
      endMs: 1100,
      // read 1000–1020, prepare 1020–1021, compute 1021–1071, writes 1071–1081, gauges 1081–1083,
      // route 1083–1100; analyze did not run (absent), read.* steps are not top-level phases.
      phasesMs: { 'read.versions': 8, read: 20, prepare: 1, compute: 50, writes: 10, gauges: 2, route: 17 },
    };
    expect(phasesOverlapped({ startMs: 1030, endMs: 1040 }, evaluation)).toEqual(['compute']);
    expect(phasesOverlapped({ startMs: 1015, endMs: 1075 }, evaluation)).toEqual([
      'read',
      'prepare',
      'compute',
      'writes',
    ]);
    expect(phasesOverlapped({ startMs: 990, endMs: 1005 }, evaluation)).toEqual(['before', 'read']);
    expect(phasesOverlapped({ startMs: 1095, endMs: 1130 }, evaluation)).toEqual(['route', 'after']);
  });

  it('counts only the part of each pause inside the span', () => {
    const pauses = [
      { startMs: 90, endMs: 110 }, // 10 ms inside
      { startMs: 120, endMs: 125 }, // wholly inside
      { startMs: 195, endMs: 230 }, // 5 ms inside
      { startMs: 300, endMs: 310 }, // outside
    ];
    expect(pausedMsIn({ startMs: 100, endMs: 200 }, pauses)).toBe(20);
    expect(pausedMsIn({ startMs: 400, endMs: 500 }, pauses)).toBe(0);
  });

  it("finds the server's handling inside a probe, and none outside it", () => {
    const served = [
      { startMs: 1, endMs: 3 },
      { startMs: 12, endMs: 15 },
      { startMs: 21, endMs: 40 },
    ];
    expect(servedWithin({ startMs: 10, endMs: 18 }, served)).toEqual({ startMs: 12, endMs: 15 });
    expect(servedWithin({ startMs: 0, endMs: 5 }, served)).toEqual({ startMs: 1, endMs: 3 });
    // Began inside the probe but ended after it (not this probe's request), or none began in it.
    expect(servedWithin({ startMs: 20, endMs: 30 }, served)).toBeUndefined();
    expect(servedWithin({ startMs: 4, endMs: 11 }, served)).toBeUndefined();
    expect(servedWithin({ startMs: 50, endMs: 60 }, served)).toBeUndefined();
    expect(servedWithin({ startMs: 0, endMs: 5 }, [])).toBeUndefined();
  });
});
