import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LeaseLock, type LeaseApi } from './lease-lock';

/** An in-memory Lease store with the API server's optimistic concurrency (resourceVersion). */
class MemoryLeases implements LeaseApi {
  lease: V1Lease | null = null;
  private rv = 0;
  async read(): Promise<V1Lease | null> {
    return this.lease ? structuredClone(this.lease) : null;
  }
  async create(l: V1Lease): Promise<boolean> {
    if (this.lease) return false;
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return true;
  }
  async replace(l: V1Lease): Promise<boolean> {
    if (!this.lease || l.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) return false;
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return true;
  }
}

function pair(leaseMs = 9000) {
  const api = new MemoryLeases();
  let t = 0;
  const clock = { advance: (ms: number) => (t += ms), now: () => t };
  const lock = (identity: string) =>
    new LeaseLock(api, { namespace: 'ns', name: 'sluice-leader-x', identity, leaseMs, now: clock.now });
  return { api, clock, a: lock('a'), b: lock('b') };
}

describe('LeaseLock', () => {
  it('lets the first replica take the Lease and keeps the second out while it is renewed', async () => {
    const { api, clock, a, b } = pair();
    expect(await a.tryHold()).toBe(true);
    expect(api.lease?.spec).toMatchObject({
      holderIdentity: 'a',
      leaseDurationSeconds: 9,
      leaseTransitions: 0,
    });
    for (let i = 0; i < 10; i++) {
      clock.advance(2000);
      expect(await a.tryHold()).toBe(true);
      expect(await b.tryHold()).toBe(false);
    }
  });

  it('hands the Lease over only after it went unrenewed for a whole duration, and the old holder sees it lost', async () => {
    const { api, clock, a, b } = pair();
    await a.tryHold();
    expect(await b.tryHold()).toBe(false); // b first sees the record now
    clock.advance(8999);
    expect(await b.tryHold()).toBe(false);
    clock.advance(1);
    expect(await b.tryHold()).toBe(true);
    expect(api.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryHold()).toBe(false);
  });

  it('makes a leader that cannot renew give up before a follower may take over', async () => {
    const { clock, a } = pair(9000);
    await a.tryHold();
    expect(a.renewDeadlineMs).toBe(6000);
    clock.advance(5999);
    expect(a.stillValid()).toBe(true);
    clock.advance(1);
    expect(a.stillValid()).toBe(false);
  });

  it('lets a follower take a released Lease at once', async () => {
    const { api, a, b } = pair();
    await a.tryHold();
    expect(await b.tryHold()).toBe(false);
    await a.release();
    expect(api.lease?.spec?.holderIdentity).toBe('');
    expect(await b.tryHold()).toBe(true);
  });

  it('lets one of two replicas racing for an expired Lease win (the other gets a conflict)', async () => {
    const api = new MemoryLeases();
    const stale = { holderIdentity: '', leaseDurationSeconds: 1 };
    api.lease = { metadata: { name: 'l', namespace: 'ns', resourceVersion: '7' }, spec: stale };
    const read = api.read.bind(api);
    const first = await read();
    const a = new LeaseLock(
      { ...api, read: async () => first, create: api.create.bind(api), replace: api.replace.bind(api) },
      {
        namespace: 'ns',
        name: 'l',
        identity: 'a',
        leaseMs: 9000,
      },
    );
    const b = new LeaseLock(
      { ...api, read: async () => first, create: api.create.bind(api), replace: api.replace.bind(api) },
      {
        namespace: 'ns',
        name: 'l',
        identity: 'b',
        leaseMs: 9000,
      },
    );
    expect([await a.tryHold(), await b.tryHold()]).toEqual([true, false]);
  });

  it('names the holder only while its renewal is within the duration', () => {
    const lease = { spec: { holderIdentity: 'a', renewTime: new Date(10_000), leaseDurationSeconds: 5 } };
    expect(LeaseLock.holderOf(lease, 14_000)).toBe('a');
    expect(LeaseLock.holderOf(lease, 16_000)).toBeNull();
    expect(LeaseLock.holderOf(null)).toBeNull();
  });
});
