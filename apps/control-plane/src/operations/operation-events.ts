// In-process fan-out of operation updates, for the SSE stream.
import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { Operation } from '../generated/prisma/client';

@Injectable()
export class OperationEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  emit(op: Operation): void {
    this.emitter.emit('operation', op);
  }

  subscribe(fn: (op: Operation) => void): () => void {
    this.emitter.on('operation', fn);
    return () => this.emitter.off('operation', fn);
  }
}
