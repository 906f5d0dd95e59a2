// `progress --follow`: the query's server-sent `progress` events, plus a poll of the stored
// events as a gap-filler. A control plane pushes to SSE only the events it ingested itself, and
// its replicas share the `sluice.progress` partitions, so through one replica's stream some
// queries' events never come. Every stored event does reach the database; the poll finds those
// (a few seconds later) and the two sources are merged without duplicates.
import type { ProgressEvent } from '@sluice/contracts';
import type { ApiClient } from './client';
import { streamEvents } from './sse';

const POLL_MS = 2000;
/** Events of several instances are stored out of timestamp order; look back this far. */
const LOOK_BACK_MS = 30_000;
/** Keys remembered for de-duplication (a few minutes of events of many instances). */
const MAX_KEYS = 5000;

interface KeyedProgress extends ProgressEvent {
  runId?: string;
}

export function progressKey(p: KeyedProgress): string {
  return `${p.runId ?? ''}/${p.sluice?.instance ?? ''}/${p.batchId}/${p.timestamp}`;
}

/** A bounded set: true the first time a key is added. */
export class SeenKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly max = MAX_KEYS) {}
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value as string);
    return true;
  }
}

export async function tailProgress(
  client: ApiClient,
  queryId: string,
  signal: AbortSignal,
  onProgress: (p: ProgressEvent) => void,
): Promise<void> {
  const seen = new SeenKeys();
  const emit = (p: ProgressEvent) => {
    if (seen.add(progressKey(p))) onProgress(p);
  };
  const startedAt = Date.now();
  let latest = startedAt;
  const poll = async () => {
    while (!signal.aborted) {
      await sleep(POLL_MS, signal);
      if (signal.aborted) return;
      const since = new Date(latest - LOOK_BACK_MS).toISOString();
      const events = await client
        .get<ProgressEvent[]>(`/api/v1/queries/${queryId}/progress`, {
          query: { since, limit: 1000 },
          signal,
        })
        .catch((e: unknown) => {
          if (signal.aborted) return [];
          throw e;
        });
      for (const p of events) {
        // Only what happened after the tail began: the look-back is for late arrivals.
        if (Date.parse(p.timestamp) < startedAt) continue;
        latest = Math.max(latest, Date.parse(p.timestamp));
        emit(p);
      }
    }
  };
  await Promise.all([
    streamEvents(client, `/api/v1/queries/${queryId}/events`, signal, (e) => {
      if (e.event === 'progress') emit(e.data as ProgressEvent);
    }),
    poll(),
  ]);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
