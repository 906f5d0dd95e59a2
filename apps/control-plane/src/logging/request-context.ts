// The current request id, available to code far from the controller (audit rows) without
// threading it through every call. AsyncLocalStorage keeps it per request.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';

const storage = new AsyncLocalStorage<{ requestId: string }>();

export const ClsRequestId = {
  current(): string | undefined {
    return storage.getStore()?.requestId;
  },
  run<T>(requestId: string, fn: () => T): T {
    return storage.run({ requestId }, fn);
  },
};

/** Express middleware; runs after pino-http has assigned `req.id`. */
export function requestContextMiddleware(req: Request, _res: Response, next: NextFunction): void {
  const id = (req as Request & { id?: unknown }).id;
  storage.run({ requestId: typeof id === 'string' ? id : String(id ?? '') }, next);
}
