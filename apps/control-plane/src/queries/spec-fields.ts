// Reads the few spec fields the control plane needs from a stored (already validated) spec.
// Duration strings follow Spark ("2 seconds", "500 milliseconds", "1 minute").

const UNITS_MS: Record<string, number> = {
  millisecond: 1,
  milliseconds: 1,
  ms: 1,
  second: 1000,
  seconds: 1000,
  s: 1000,
  sec: 1000,
  secs: 1000,
  minute: 60_000,
  minutes: 60_000,
  min: 60_000,
  mins: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  h: 3_600_000,
};

export function durationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const unit = UNITS_MS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** The processing-time trigger interval; Spark runs as fast as it can (0) when none is set. */
export function triggerIntervalMs(spec: unknown): number {
  // Stored specs are the compiler's normalised form (`processingTimeMs`); raw specs say
  // `processingTime: "2 seconds"`.
  const trigger = (spec as { trigger?: { processingTime?: unknown; processingTimeMs?: unknown } } | null)
    ?.trigger;
  if (typeof trigger?.processingTimeMs === 'number') return trigger.processingTimeMs;
  const raw = trigger?.processingTime;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string') return durationMs(raw) ?? 1000;
  return 1000;
}

export function sourceTopics(spec: unknown): string[] {
  const sources =
    (spec as { sources?: Record<string, { kafka?: { topic?: unknown } }> } | null)?.sources ?? {};
  return Object.values(sources)
    .map((s) => s.kafka?.topic)
    .filter((t): t is string => typeof t === 'string');
}
