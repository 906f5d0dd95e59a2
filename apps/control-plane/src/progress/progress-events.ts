// In-process fan-out of ingested progress events, per query, for the SSE stream.
import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

@Injectable()
export class ProgressEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  emit(queryId: string, event: unknown): void {
    this.emitter.emit(queryId, event);
  }

  subscribe(queryId: string, fn: (event: unknown) => void): () => void {
    this.emitter.on(queryId, fn);
    return () => this.emitter.off(queryId, fn);
  }
}
