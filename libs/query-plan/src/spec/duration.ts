// Durations as Spark writes them ('10 seconds', '1 minute', 'interval 2 hours 30 minutes') plus
// short forms ('500ms', '2s', '1m'). A bare number means milliseconds, like Trigger.ProcessingTime(ms).

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  msec: 1,
  msecs: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const text = value
    .trim()
    .toLowerCase()
    .replace(/^interval\s+/, '');
  if (text === '') return undefined;
  const part = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    const unit = match ? UNIT_MS[match[2] ?? ''] : undefined;
    if (!match || unit === undefined) return undefined;
    total += Number(match[1]) * unit;
    index = part.lastIndex;
  }
  return Math.round(total);
}

export const DURATION_HINT = "a duration such as '10 seconds', '1 minute' or '500ms'";
