// Time lag the way kafka-lag-exporter estimates it: sample each partition's end offset over time
// into a small table of (offset, time) points; the time lag of a consumer at offset C is "now minus
// the moment the log end was at C", found by linear interpolation between the two samples that
// bracket C. No record timestamps are read, so it works for any topic.

export interface OffsetTimePoint {
  offset: number;
  timeMs: number;
}

export class OffsetTimeTable {
  private readonly points: OffsetTimePoint[] = [];

  constructor(private readonly capacity = 60) {}

  /** Adds a sample of the log end offset. Points stay sorted by time and by offset. */
  add(offset: number, timeMs: number): void {
    const last = this.points[this.points.length - 1];
    if (last && timeMs <= last.timeMs) return;
    if (last && offset < last.offset) this.points.length = 0; // topic recreated / truncated: start over
    // While the end offset does not move, keep the point where it was first reached: that is the
    // moment a consumer at this offset caught up.
    if (last && offset === last.offset) return;
    this.points.push({ offset, timeMs });
    if (this.points.length > this.capacity) this.points.shift();
  }

  get size(): number {
    return this.points.length;
  }

  /**
   * Seconds the consumer at `committed` is behind, or null when the table cannot tell (fewer than
   * two points and the consumer is behind). A consumer at or past the newest sample is 0 behind.
   */
  lagSeconds(committed: number, nowMs: number): number | null {
    const pts = this.points;
    const newest = pts[pts.length - 1];
    if (!newest) return null;
    if (committed >= newest.offset) return 0;
    if (pts.length < 2) return null;
    let lo = pts[0]!;
    let hi = pts[1]!;
    if (committed >= lo.offset) {
      for (let i = 1; i < pts.length; i++) {
        if (pts[i]!.offset > committed) {
          lo = pts[i - 1]!;
          hi = pts[i]!;
          break;
        }
      }
    }
    // Below the oldest sample we extrapolate along the oldest segment's rate.
    const rate = (hi.offset - lo.offset) / (hi.timeMs - lo.timeMs);
    const reachedAt = lo.timeMs + (committed - lo.offset) / rate;
    return Math.max(0, (nowMs - reachedAt) / 1000);
  }
}
