// Event-time window assignment as Spark's TimeWindowing: windows are aligned to the epoch, a row
// at time t belongs to every window with start ≤ t < end (one when tumbling, ⌈size/slide⌉ when sliding).

export interface TimeWindow {
  start: number;
  end: number;
}

export function windowsFor(eventTimeMs: number, sizeMs: number, slideMs: number): TimeWindow[] {
  const lastStart = eventTimeMs - (((eventTimeMs % slideMs) + slideMs) % slideMs);
  const windows: TimeWindow[] = [];
  for (let start = lastStart; start > eventTimeMs - sizeMs; start -= slideMs)
    windows.push({ start, end: start + sizeMs });
  return windows.reverse();
}
