import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ConsumerStatusMetric, expand } from './consumer-status-metric';

const NAME = 'sluice_consumer_status';
const HELP = 'status per partition';

function metric(): { registry: Registry; m: ConsumerStatusMetric } {
  const registry = new Registry();
  return { registry, m: new ConsumerStatusMetric({ name: NAME, help: HELP, registers: [registry] }) };
}

describe('ConsumerStatusMetric', () => {
  it('exposes the same text as a Gauge set series by series', async () => {
    const { registry, m } = metric();
    m.record('orders', 'orders.in/0=OK;orders.in/1=STALL;');
    m.commit();
    const plain = new Registry();
    const g = new Gauge({
      name: NAME,
      help: HELP,
      labelNames: ['query', 'topic', 'partition'],
      registers: [plain],
    });
    g.set({ query: 'orders', topic: 'orders.in', partition: '0' }, 1);
    g.set({ query: 'orders', topic: 'orders.in', partition: '1' }, 5);
    expect(await registry.metrics()).toBe(await plain.metrics());
    expect(await registry.metrics()).toContain(
      'sluice_consumer_status{query="orders",topic="orders.in",partition="1"} 5',
    );
  });

  it('follows each pass: a changed status, a query not recorded, a new one; reset empties it', async () => {
    const { registry, m } = metric();
    m.record('a', 't/0=OK;');
    m.record('b', 't/0=OK;t/1=OK;');
    m.commit();
    expect((await m.get()).values).toHaveLength(3);
    m.record('a', 't/0=STOP;');
    m.record('c', 'u/3=REWIND;');
    m.commit();
    const text = await registry.metrics();
    expect(text).toContain('sluice_consumer_status{query="a",topic="t",partition="0"} 4');
    expect(text).not.toContain('query="b"');
    expect(text).toContain('sluice_consumer_status{query="c",topic="u",partition="3"} 6');
    expect((await m.get()).values).toHaveLength(2);
    // Recorded with an unchanged signature: kept.
    m.record('a', 't/0=STOP;');
    m.record('c', 'u/3=REWIND;');
    m.commit();
    expect((await m.get()).values).toHaveLength(2);
    m.reset();
    expect((await m.get()).values).toEqual([]);
  });

  it("ends only its own scope with a pass: each evaluation share keeps the others' series", async () => {
    const { m } = metric();
    m.record('a', 't/0=OK;', 0);
    m.record('b', 't/0=STALL;', 1);
    m.commit(0);
    m.commit(1);
    expect((await m.get()).values).toHaveLength(2);
    // Share 0's next pass does not see b (share 1's): b stays; a, not recorded, goes.
    m.commit(0);
    expect((await m.get()).values.map((v) => v.labels.query)).toEqual(['b']);
    m.commit(1);
    expect((await m.get()).values).toEqual([]);
  });

  it('expands a signature into one series per partition and skips what it cannot read', () => {
    expect(expand('q', 'a.b-c_d/12=WARNING;x/0=OK;')).toEqual([
      { value: 2, labels: { query: 'q', topic: 'a.b-c_d', partition: '12' } },
      { value: 1, labels: { query: 'q', topic: 'x', partition: '0' } },
    ]);
    expect(expand('q', '')).toEqual([]);
    expect(expand('q', 'no-separators;t/1=UNKNOWN;t/2=OK')).toEqual([
      { value: 1, labels: { query: 'q', topic: 't', partition: '2' } },
    ]);
  });
});
