// Progress-event load generator for bench:ingest, in its own process so the driver can lower its
// CPU priority (it shares the 2 cores with the system it measures; in production the engines that
// emit progress run elsewhere). Produces EVENTS Spark progress events round-robin over the query
// ids (paced at RATE/s, or as fast as possible with RATE 0), then prints
// `{"startedAt": epochMs}` when the first event goes out and `{"produceSeconds": n}` at the end.
// `tsx bench/ingest/load-generator.ts BROKERS EVENTS RATE ID[,ID...]`
import fs from 'node:fs';
import path from 'node:path';
import { PROGRESS_TOPIC } from '@sluice/contracts';
import { createKafka, parseBrokers } from '@sluice/kafka';

const FIXTURE = path.resolve(__dirname, '..', '..', 'libs/contracts/test/fixtures/spark-progress-kafka.json');
const SEND_SIZE = 1000;

/** `(id, batchId, timestamp) => JSON text` of the fixture with those three fields replaced. */
export function eventTemplate(
  fixture: Record<string, unknown>,
): (id: string, batchId: number, timestamp: string) => string {
  // split() with a capture group alternates literal text and marker names, in document order.
  const parts = JSON.stringify({
    ...fixture,
    id: '@id@',
    batchId: '@batchId@',
    timestamp: '@timestamp@',
  }).split(/"@(id|batchId|timestamp)@"/);
  return (id, batchId, timestamp) => {
    const values: Record<string, string> = {
      id: JSON.stringify(id),
      batchId: String(batchId),
      timestamp: JSON.stringify(timestamp),
    };
    return parts.map((p, i) => (i % 2 === 1 ? values[p] : p)).join('');
  };
}

async function main(): Promise<void> {
  const [brokers, eventsArg, rateArg, idList] = process.argv.slice(2);
  const events = Number(eventsArg);
  const rate = Number(rateArg);
  if (!brokers || !idList || !(events > 0) || !(rate >= 0))
    throw new Error('usage: load-generator BROKERS EVENTS RATE ID[,ID...]');
  const ids = idList.split(',');
  const event = eventTemplate(JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>);
  const producer = createKafka({ brokers: parseBrokers(brokers), clientId: 'bench-ingest-load' }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const t0 = performance.now();
  const startTs = Date.now();
  process.stdout.write(`${JSON.stringify({ startedAt: startTs })}\n`);
  for (let i = 0; i < events; i += SEND_SIZE) {
    const messages = [];
    for (let j = i; j < Math.min(events, i + SEND_SIZE); j++) {
      const id = ids[j % ids.length]!;
      messages.push({ key: id, value: event(id, j, new Date(startTs + j).toISOString()) });
    }
    await producer.send({ topic: PROGRESS_TOPIC, messages });
    if (rate > 0) {
      const wait = t0 + ((i + messages.length) / rate) * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  const produceSeconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  process.stdout.write(`${JSON.stringify({ produceSeconds })}\n`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`load-generator failed: ${e.message}\n`);
    process.exit(1);
  });
}
