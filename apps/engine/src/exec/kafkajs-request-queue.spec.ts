// patches/kafkajs+2.2.4+007 (kafkajs issues #1556, #1604, #1704): released 2.2.4 kept a 1 ms
// timer loop running on every open connection, whether requests waited or not. With the patch a
// connection's request queue schedules a check only while a request waits, and a waiting request
// still goes out when a response frees an in-flight slot or when a throttle ends.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface Entry {
  apiKey: number;
  apiName: string;
  apiVersion: number;
  correlationId: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}
interface RequestQueueInstance {
  throttleCheckTimeoutId: unknown;
  push(r: { entry: Entry; expectResponse: boolean; requestTimeout: number; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}

const requireKafkajs = createRequire(__filename);
const RequestQueue = requireKafkajs('kafkajs/src/network/requestQueue') as new (
  o: object,
) => RequestQueueInstance;
const { createLogger, LEVELS } = requireKafkajs('kafkajs/src/loggers') as {
  createLogger: (o: object) => { namespace: (n: string) => unknown };
  LEVELS: { NOTHING: number };
};

function queue(maxInFlightRequests: number): RequestQueueInstance {
  return new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'spec',
    broker: 'localhost:0',
    logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => undefined }).namespace(
      'RequestQueue',
    ),
  });
}

/** Pushes request `id`; resolves `sent` when the queue writes it, `answered` when it is fulfilled. */
function push(q: RequestQueueInstance, id: number): { sent: () => boolean; answered: Promise<unknown> } {
  let sent = false;
  let resolve!: (v: unknown) => void;
  const answered = new Promise((r) => (resolve = r));
  q.push({
    entry: {
      apiKey: 0,
      apiName: 'Produce',
      apiVersion: 3,
      correlationId: id,
      resolve,
      reject: () => undefined,
    },
    expectResponse: true,
    requestTimeout: 30_000,
    sendRequest: () => (sent = true),
  });
  return { sent: () => sent, answered };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kafkajs RequestQueue (patch 007)', () => {
  it('leaves no timer scheduled once nothing waits', async () => {
    const q = queue(1);
    const a = push(q, 1);
    expect(a.sent()).toBe(true);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    await a.answered;
    expect(q.throttleCheckTimeoutId).toBeNull();
    await sleep(20);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('sends a request held back by the in-flight limit as soon as a response frees the slot', async () => {
    const q = queue(1);
    const a = push(q, 1);
    const b = push(q, 2);
    expect([a.sent(), b.sent()]).toEqual([true, false]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(b.sent()).toBe(true);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    await Promise.all([a.answered, b.answered]);
    // The fallback check scheduled while b waited fires once, finds nothing and schedules no other.
    await sleep(30);
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });

  it('sends a request held back by a throttle once the throttle ends', async () => {
    const q = queue(5);
    q.maybeThrottle(30);
    const a = push(q, 1);
    expect(a.sent()).toBe(false);
    expect(q.throttleCheckTimeoutId).not.toBeNull();
    for (let waited = 0; !a.sent() && waited < 2_000; waited += 10) await sleep(10);
    expect(a.sent()).toBe(true);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    await a.answered;
    expect(q.throttleCheckTimeoutId).toBeNull();
    q.destroy();
  });
});
