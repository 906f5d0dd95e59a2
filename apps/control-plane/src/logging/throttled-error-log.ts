// BullMQ prints every Redis connection error to stderr when nothing listens for them, once per
// reconnect attempt. While Redis is down that is a line every few hundred ms (the readiness
// probe already reports it), so the queue and the worker log the first error and then at most
// one summary per interval.
export function throttledErrorLog(
  report: (message: string) => void,
  intervalMs = 30_000,
  /** Milliseconds now; a test passes its own instead of faking the global clock. */
  nowMs: () => number = Date.now,
): (err: Error) => void {
  let lastAt = 0;
  let suppressed = 0;
  return (err: Error) => {
    const now = nowMs();
    if (now - lastAt < intervalMs) {
      suppressed++;
      return;
    }
    report(suppressed > 0 ? `${err.message} (${suppressed} more since the last report)` : err.message);
    lastAt = now;
    suppressed = 0;
  };
}
