import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { GaugeSync } from './gauge-sync';

async function series(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('g{'))
    .sort();
}

describe('GaugeSync', () => {
  it('exports what the last pass set, removes what disappeared and keeps unchanged groups', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'h', labelNames: ['q', 'p'], registers: [registry] });
    const sync = new GaugeSync(gauge);
    let calls = 0;
    const partitions = (q: string, values: number[]) => () => {
      calls++;
      return values.map((v, i): [string, { q: string; p: string }, number] => [
        String(i),
        { q, p: String(i) },
        v,
      ]);
    };
    sync.group('a', '1,2', partitions('a', [1, 2]));
    sync.group('b', '5', partitions('b', [5]));
    sync.commit();
    expect(await series(registry)).toEqual(['g{q="a",p="0"} 1', 'g{q="a",p="1"} 2', 'g{q="b",p="0"} 5']);

    // Same signature: the entries are not even computed; b is gone; a loses a partition.
    calls = 0;
    sync.group('a', '1,2', partitions('a', [1, 2]));
    sync.commit();
    expect(calls).toBe(0);
    expect(await series(registry)).toEqual(['g{q="a",p="0"} 1', 'g{q="a",p="1"} 2']);

    sync.group('a', '4', partitions('a', [4]));
    sync.set('c', { q: 'c', p: 'x' }, 7);
    sync.commit();
    expect(await series(registry)).toEqual(['g{q="a",p="0"} 4', 'g{q="c",p="x"} 7']);

    sync.clear();
    expect(await series(registry)).toEqual([]);
  });
  it('updates a changed group in place: only the values that moved, label sets that went removed', async () => {
    const registry = new Registry();
    const gauge = new Gauge({ name: 'g', help: 'h', labelNames: ['q', 'p'], registers: [registry] });
    const sync = new GaugeSync(gauge);
    const entries = (values: Array<[string, number]>) => () =>
      values.map(([p, v]): [string, { q: string; p: string }, number] => [p, { q: 'a', p }, v]);
    sync.group(
      'a',
      '1',
      entries([
        ['0', 1],
        ['1', 2],
        ['2', 3],
      ]),
    );
    sync.set('c', { q: 'c', p: 'x' }, 7);
    sync.commit();
    // Partition 0 keeps its value, 1 moves, 2 goes, 3 comes; c keeps its value, then changes.
    sync.group(
      'a',
      '2',
      entries([
        ['0', 1],
        ['1', 5],
        ['3', 4],
      ]),
    );
    sync.set('c', { q: 'c', p: 'x' }, 7);
    sync.commit();
    expect(await series(registry)).toEqual([
      'g{q="a",p="0"} 1',
      'g{q="a",p="1"} 5',
      'g{q="a",p="3"} 4',
      'g{q="c",p="x"} 7',
    ]);
    sync.set('c', { q: 'c', p: 'x' }, 8);
    sync.commit();
    expect(await series(registry)).toEqual(['g{q="c",p="x"} 8']);
  });
});
