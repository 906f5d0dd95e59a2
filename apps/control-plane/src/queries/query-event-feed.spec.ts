// The polled half of a query's event stream over typed in-memory fakes of its repositories: a
// status event only when the status changed, alert transitions once each, oldest first, from the
// stream's start on, at most TRANSITIONS_PER_POLL a poll.
import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../generated/prisma/client';
import type { AlertTransitionRepository } from '../repositories/alert-transition.repository';
import {
  FakeClock,
  InMemoryInstanceRepository,
  InMemoryQueryRepository,
  queryRow,
  type Port,
} from '../../test/support/fakes';
import { QueryEventFeed, TRANSITIONS_PER_POLL } from './query-event-feed';

class InMemoryTransitions implements Port<AlertTransitionRepository> {
  readonly rows: AlertTransition[] = [];
  add(queryName: string, from: string, to: string): AlertTransition {
    const row: AlertTransition = {
      id: BigInt(this.rows.length + 1),
      alertId: '00000000-0000-4000-8000-00000000a1e7',
      ruleName: 'lag-high',
      queryName,
      from,
      to,
      value: 42,
      figures: {},
      at: new Date('2026-01-01T00:00:00Z'),
    };
    this.rows.push(row);
    return row;
  }
  async newestId(queryName: string): Promise<bigint> {
    return this.rows.filter((r) => r.queryName === queryName).at(-1)?.id ?? 0n;
  }
  async after(queryName: string, afterId: bigint, limit: number): Promise<AlertTransition[]> {
    return this.rows.filter((r) => r.queryName === queryName && r.id > afterId).slice(0, limit);
  }
}

function setup() {
  const queries = new InMemoryQueryRepository(new InMemoryInstanceRepository(new FakeClock()));
  const q = queries.add(queryRow({ name: 'clicks', phase: 'RUNNING', observedGeneration: 1 }), {
    specText: '',
    spec: {},
  });
  return { queries, q, transitions: new InMemoryTransitions() };
}

describe('QueryEventFeed', () => {
  it('sends the status once, then only when phase, conditions or observed generation change', async () => {
    const { queries, q, transitions } = setup();
    const feed = new QueryEventFeed(q.id, q.name, 0n, queries, transitions);
    expect(await feed.status()).toEqual({
      type: 'status',
      data: { phase: 'RUNNING', conditions: [], observedGeneration: 1 },
    });
    expect(await feed.status()).toBeNull();
    queries.queries.set(q.id, { ...q, phase: 'DEGRADED', observedGeneration: 2 });
    expect(await feed.status()).toEqual({
      type: 'status',
      data: { phase: 'DEGRADED', conditions: [], observedGeneration: 2 },
    });
    // A query gone (deleted meanwhile) sends nothing.
    queries.queries.delete(q.id);
    expect(await feed.status()).toBeNull();
  });

  it("sends each of the query's transitions after the stream's start once, oldest first", async () => {
    const { queries, q, transitions } = setup();
    transitions.add('clicks', 'inactive', 'pending'); // before the stream started
    const feed = new QueryEventFeed(q.id, q.name, await transitions.newestId('clicks'), queries, transitions);
    expect(await feed.alerts()).toEqual([]);
    transitions.add('other', 'inactive', 'firing');
    const firing = transitions.add('clicks', 'pending', 'firing');
    transitions.add('clicks', 'firing', 'resolved');
    const events = await feed.alerts();
    expect(events.map((e) => e.id)).toEqual([String(firing.id), String(firing.id + 1n)]);
    expect(events[0]).toMatchObject({
      type: 'alert',
      data: { rule: 'lag-high', query: 'clicks', from: 'pending', to: 'firing', value: 42 },
    });
    expect(await feed.alerts()).toEqual([]);
  });

  it('sends a burst over several polls, TRANSITIONS_PER_POLL at a time, none lost', async () => {
    const { queries, q, transitions } = setup();
    const feed = new QueryEventFeed(q.id, q.name, 0n, queries, transitions);
    for (let i = 0; i < TRANSITIONS_PER_POLL + 5; i++) transitions.add('clicks', 'pending', 'firing');
    expect(await feed.alerts()).toHaveLength(TRANSITIONS_PER_POLL);
    const rest = await feed.alerts();
    expect(rest.map((e) => e.id)).toEqual(
      Array.from({ length: 5 }, (_, i) => String(TRANSITIONS_PER_POLL + 1 + i)),
    );
  });
});
