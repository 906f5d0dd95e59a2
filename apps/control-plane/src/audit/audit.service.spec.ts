// The audit service over a typed in-memory fake of its repository: what an entry stores (the
// actor's name and token id, JSON before/after, the request id of the request it runs in), the
// caller's transaction passed through, and the page size clamped.
import { describe, expect, it } from 'vitest';
import type { AuditLog } from '../generated/prisma/client';
import { ClsRequestId } from '../logging/request-context';
import type { Tx } from '../repositories/query.repository';
import type { AuditRepository, AuditRow } from './audit.repository';
import { AUDIT_PAGE_MAX, AuditService } from './audit.service';

type Port<T> = { [K in keyof T]: T[K] };

/** What a JSONB column gives back for a written value (SQL NULL for none). */
const stored = (v: AuditRow['before']): AuditLog['before'] =>
  v === undefined ? null : JSON.parse(JSON.stringify(v));

class InMemoryAudit implements Port<AuditRepository> {
  readonly rows: AuditLog[] = [];
  readonly txs: Array<Tx | undefined> = [];
  lastLimit = 0;
  async append(row: AuditRow, tx?: Tx): Promise<void> {
    this.txs.push(tx);
    this.rows.push({
      id: BigInt(this.rows.length + 1),
      createdAt: new Date(0),
      actor: row.actor,
      actorId: row.actorId,
      action: row.action,
      target: row.target,
      before: stored(row.before),
      after: stored(row.after),
      requestId: row.requestId,
    });
  }
  async newest(target: string | undefined, limit: number): Promise<AuditLog[]> {
    this.lastLimit = limit;
    return this.rows
      .filter((r) => target === undefined || r.target === target)
      .reverse()
      .slice(0, limit);
  }
}

const actor = { id: 'token-1', name: 'ops' };

describe('AuditService', () => {
  it('stores the actor, the action, JSON before/after and the request id it runs under', async () => {
    const repo = new InMemoryAudit();
    const audit = new AuditService(repo);
    await ClsRequestId.run('req-42', () =>
      audit.record({
        actor,
        action: 'query.scale',
        target: 'query/q1',
        before: { instances: 1, at: new Date('2026-01-01T00:00:00Z'), gone: undefined },
        after: { instances: 3 },
      }),
    );
    expect(repo.rows[0]).toMatchObject({
      actor: 'ops',
      actorId: 'token-1',
      action: 'query.scale',
      target: 'query/q1',
      // Dates as the ISO strings JSON holds, undefined fields dropped.
      before: { instances: 1, at: '2026-01-01T00:00:00.000Z' },
      after: { instances: 3 },
      requestId: 'req-42',
    });
    expect(repo.rows[0]!.before).not.toHaveProperty('gone');
  });

  it('outside a request: no request id, no target, no before/after', async () => {
    const repo = new InMemoryAudit();
    await new AuditService(repo).record({ actor, action: 'token.bootstrap' });
    expect(repo.rows[0]).toMatchObject({ target: null, before: null, after: null, requestId: null });
  });

  it("writes in the caller's transaction when given one", async () => {
    const repo = new InMemoryAudit();
    const audit = new AuditService(repo);
    const tx = Object.freeze({}) as Tx;
    await audit.record({ actor, action: 'query.create' }, tx);
    await audit.record({ actor, action: 'query.delete' });
    expect(repo.txs).toEqual([tx, undefined]);
  });

  it('lists the newest first, filtered by target, the page clamped to 1…AUDIT_PAGE_MAX', async () => {
    const repo = new InMemoryAudit();
    const audit = new AuditService(repo);
    for (const target of ['query/a', 'query/b', 'query/a'])
      await audit.record({ actor, action: 'x', target });
    expect((await audit.list('query/a')).map((r) => r.id)).toEqual([3n, 1n]);
    await audit.list(undefined, 0);
    expect(repo.lastLimit).toBe(1);
    await audit.list(undefined, 10_000);
    expect(repo.lastLimit).toBe(AUDIT_PAGE_MAX);
    expect(await audit.list(undefined, 2)).toHaveLength(2);
  });
});
