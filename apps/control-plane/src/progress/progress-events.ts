// In-process fan-out of ingested progress events, per query, for the SSE stream.
import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

@Injectable()
export class ProgressEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private readonly watchers = new Set<(queryIds: string[]) => void>();

  emit(queryId: string, event: unknown): void {
    this.emitter.emit(queryId, event);
  }

  subscribe(queryId: string, fn: (event: unknown) => void): () => void {
    this.emitter.on(queryId, fn);
    this.notify();
    return () => {
      this.emitter.off(queryId, fn);
      this.notify();
    };
  }

  /** Query ids that have at least one subscriber (ingest sends full events only for these). */
  watched(): string[] {
    return this.emitter
      .eventNames()
      .filter((n): n is string => typeof n === 'string' && this.emitter.listenerCount(n) > 0);
  }

  /** Calls `fn` with the watched query ids whenever the set may have changed. */
  onWatchedChange(fn: (queryIds: string[]) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private notify(): void {
    const ids = this.watched();
    for (const fn of this.watchers) fn(ids);
  }
}
