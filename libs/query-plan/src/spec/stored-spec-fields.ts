// The few fields of a stored (already validated) spec that the control plane reads: the trigger
// interval and the source topics. They live here, beside the schema, so that the API, the engine and
// the control plane read a spec the same way (one duration parser: `parseDuration`).
import { parseDuration } from './duration';

/** Used when a spec sets no processing-time trigger (Spark's default trigger runs back to back). */
export const DEFAULT_TRIGGER_INTERVAL_MS = 1000;

/** The processing-time trigger interval, from a raw spec or from the compiler's normalised form. */
export function triggerIntervalMs(spec: unknown): number {
  const trigger = (spec as { trigger?: { processingTime?: unknown; processingTimeMs?: unknown } } | null)
    ?.trigger;
  if (typeof trigger?.processingTimeMs === 'number') return trigger.processingTimeMs;
  const raw = trigger?.processingTime;
  if (typeof raw === 'number' || typeof raw === 'string')
    return parseDuration(raw) ?? DEFAULT_TRIGGER_INTERVAL_MS;
  return DEFAULT_TRIGGER_INTERVAL_MS;
}

/** The Kafka topics a spec's sources subscribe to, in declaration order. */
export function sourceTopics(spec: unknown): string[] {
  const sources =
    (spec as { sources?: Record<string, { kafka?: { topic?: unknown } }> } | null)?.sources ?? {};
  return Object.values(sources)
    .map((s) => s.kafka?.topic)
    .filter((t): t is string => typeof t === 'string');
}
