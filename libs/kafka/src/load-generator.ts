// A load generator for demos and live benchmarks: writes JSON click events to a Kafka topic at a
// target rate (records/s, changeable while running), in small batches paced by wall-clock time.
import { createKafka } from './client';
import { ensureTopicsWith } from './topics';

export interface GeneratorOptions {
  brokers: string[];
  topic: string;
  partitions: number;
  rate: number;
  users?: number;
  /** Stop after this many records (unbounded when omitted). */
  limit?: number;
}

export interface RunningGenerator {
  setRate(rate: number): void;
  readonly produced: number;
  stop(): Promise<void>;
}

const MAX_PER_SEND = 2000;
const PATHS = ['/product/1', '/product/2', '/product/3', '/cart', '/checkout', '/home'];

export async function startGenerator(o: GeneratorOptions): Promise<RunningGenerator> {
  const kafka = createKafka({ brokers: o.brokers, clientId: 'sluice-load-generator' });
  await ensureTopicsWith(kafka, [{ topic: o.topic, numPartitions: o.partitions }]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();

  let rate = o.rate;
  let produced = 0;
  let running = true;
  let owed = 0;
  let last = Date.now();
  const users = o.users ?? 50;
  const loop = (async () => {
    while (running && (o.limit === undefined || produced < o.limit)) {
      const now = Date.now();
      // At most one second of deficit is carried: a generator that cannot reach its rate runs
      // flat out, and a lower rate (or 0) takes effect at once instead of after the deficit.
      owed = Math.min(owed + ((now - last) / 1000) * rate, rate);
      last = now;
      let n = Math.floor(owed);
      if (o.limit !== undefined) n = Math.min(n, o.limit - produced);
      // Bounded requests: a loop that fell behind must not build one request over the broker's limit.
      n = Math.min(n, MAX_PER_SEND);
      if (n > 0) {
        owed -= n;
        const messages = Array.from({ length: n }, (_, i) => {
          const user = `user-${(produced + i) % users}`;
          const event = {
            user_id: user,
            url: PATHS[(produced + i) % PATHS.length],
            ts: new Date(now).toISOString(),
            bytes: 200 + ((produced + i) % 800),
          };
          return { key: user, value: JSON.stringify(event) };
        });
        await producer.send({ topic: o.topic, messages });
        produced += n;
      }
      // Behind by more than a request: send again at once (the pause capped the rate at
      // MAX_PER_SEND per tick: ~20,000 records/s were sent, below what one engine processes on a
      // fast box).
      await new Promise((r) => (owed >= MAX_PER_SEND ? setImmediate(r) : setTimeout(r, 50)));
    }
  })();
  return {
    setRate(r: number) {
      rate = Math.max(0, r);
    },
    get produced() {
      return produced;
    },
    async stop() {
      running = false;
      await loop;
      await producer.disconnect();
    },
  };
}
