// QueriesService over typed in-memory fakes (test/support/fakes.ts): what it registers, lists and
// refuses, and that a refused change writes nothing. The transactions, row locks and the mutations
// themselves run on the real database in queries.int.ts and cluster-ownership.int.ts.
import { ConflictException, NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditService } from '../audit/audit.service';
import { loadAppConfig } from '../config/app-config';
import type { OperationQueueService } from '../operations/operation-queue.service';
import type { ReconcilerService } from '../reconcile/reconciler.service';
import type { Tx } from '../repositories/query.repository';
import type { SinkConnectionsService } from '../sinks/sink-connections.service';
import {
  FAKE_CLUSTER,
  FakeClock,
  FakeOperations,
  InMemoryInstanceRepository,
  InMemoryQueryRepository,
  operationRow,
  queryRow,
} from '../../test/support/fakes';
import { QueriesService } from './queries.service';
import { scaleCommand, stopCommand } from './query-commands';

// The in-memory repositories ignore their transaction argument; this stands for "inside one".
const IN_MEMORY_TX = Object.freeze({}) as Tx;

class TransactionalQueryRepository extends InMemoryQueryRepository {
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return work(IN_MEMORY_TX);
  }
}

class RecordingAudit implements Pick<AuditService, 'record'> {
  readonly entries: AuditEntry[] = [];
  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }
}

class RecordingQueue implements Pick<OperationQueueService, 'enqueue'> {
  readonly enqueued: string[] = [];
  async enqueue(operationId: string): Promise<boolean> {
    this.enqueued.push(operationId);
    return true;
  }
}

class RecordingReconciler implements Pick<ReconcilerService, 'enqueue'> {
  readonly enqueued: string[] = [];
  enqueue(queryId: string): void {
    this.enqueued.push(queryId);
  }
}

class AcceptingSinkConnections implements Pick<SinkConnectionsService, 'checkSpec'> {
  async checkSpec(): Promise<void> {}
}

const actor = { id: 'token/test', name: 'test' };
const spec = (name: string) =>
  [
    `name: ${name}`,
    'sources:',
    '  events:',
    '    kafka: { topic: orders-in, startingOffsets: earliest }',
    '    format: json',
    '    schema: { user_id: string, amount: long }',
    'sql: SELECT user_id, amount FROM events',
    'sink:',
    '  kafka: { topic: orders-out }',
    'outputMode: append',
    '',
  ].join('\n');

function harness() {
  const instances = new InMemoryInstanceRepository(new FakeClock());
  const queries = new TransactionalQueryRepository(instances);
  const operations = new FakeOperations();
  const audit = new RecordingAudit();
  const queue = new RecordingQueue();
  const reconciler = new RecordingReconciler();
  const service = new QueriesService(
    queries,
    instances,
    operations,
    queue,
    reconciler,
    audit,
    new AcceptingSinkConnections(),
    loadAppConfig({ SLUICE_CLUSTER_NAME: FAKE_CLUSTER }),
  );
  return { queries, operations, audit, queue, reconciler, service };
}

async function refusal(work: Promise<unknown>): Promise<Record<string, unknown>> {
  const e = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ConflictException);
  return (e as ConflictException).getResponse() as Record<string, unknown>;
}

describe('QueriesService', () => {
  it("registers a deployed query owned by this control plane's cluster, audits it and queues its deploy", async () => {
    const h = harness();
    const created = await h.service.create(spec('orders'), actor, true, 'operator');
    const stored = await h.queries.find(created.id);
    expect(stored).toMatchObject({ name: 'orders', cluster: FAKE_CLUSTER, desiredState: 'RUNNING' });
    expect((await h.queries.listVersions(created.id)).map((v) => v.version)).toEqual([1]);
    expect(h.audit.entries.map((e) => e.action)).toEqual(['query.create']);
    expect(h.operations.created.map((o) => o.type)).toEqual(['deploy']);
    expect(h.queue.enqueued).toEqual([created.operation?.id]);
    expect(h.reconciler.enqueued).toEqual([created.id]);
  });

  it('lists only its own cluster’s live queries', async () => {
    const h = harness();
    const own = h.queries.add(queryRow({ name: 'own' }), { specText: spec('own'), spec: {} });
    h.queries.add(queryRow({ name: 'theirs', cluster: 'other' }), { specText: spec('theirs'), spec: {} });
    h.queries.add(queryRow({ name: 'gone', deletedAt: new Date() }), { specText: spec('gone'), spec: {} });
    expect((await h.service.list()).map((q) => q.id)).toEqual([own.id]);
  });

  it('refuses a name another cluster holds, naming that cluster', async () => {
    const h = harness();
    h.queries.add(queryRow({ name: 'orders', cluster: 'west' }), { specText: spec('orders'), spec: {} });
    const body = await refusal(h.service.create(spec('orders'), actor, true, 'operator'));
    expect(body).toMatchObject({ code: 'QUERY_EXISTS' });
    expect(String(body.message)).toContain('"west"');
    expect(h.audit.entries).toEqual([]);
  });

  it("refuses to change another cluster's query with 409 naming the owner, and changes nothing", async () => {
    const h = harness();
    const theirs = h.queries.add(queryRow({ name: 'theirs', cluster: 'west' }), {
      specText: spec('theirs'),
      spec: {},
    });
    const body = await refusal(h.service.scale(scaleCommand(theirs.id, { instances: 2 }, 8), actor));
    expect(body).toMatchObject({ code: 'QUERY_OF_OTHER_CLUSTER', cluster: 'west' });
    expect(await h.queries.find(theirs.id)).toEqual(theirs);
    expect(h.audit.entries).toEqual([]);
    expect(h.operations.created).toEqual([]);
    expect(h.queue.enqueued).toEqual([]);
  });

  it('refuses to change a query no cluster has adopted yet', async () => {
    const h = harness();
    const legacy = h.queries.add(queryRow({ name: 'legacy', cluster: null }), {
      specText: spec('legacy'),
      spec: {},
    });
    const body = await refusal(h.service.stop(stopCommand(legacy.id), actor));
    expect(body).toMatchObject({ code: 'QUERY_NOT_ADOPTED' });
  });

  it('refuses a change while another operation is active, naming it', async () => {
    const h = harness();
    const own = h.queries.add(queryRow({ name: 'own' }), { specText: spec('own'), spec: {} });
    const running = operationRow({ queryId: own.id, type: 'deploy', state: 'RUNNING' });
    h.operations.active.set(own.id, running);
    const body = await refusal(h.service.stop(stopCommand(own.id), actor));
    expect(body).toMatchObject({ code: 'OPERATION_IN_PROGRESS', operationId: running.id });
    expect(h.audit.entries).toEqual([]);
  });

  it('answers 404 for a deleted or unknown query', async () => {
    const h = harness();
    const gone = h.queries.add(queryRow({ name: 'gone', deletedAt: new Date() }), {
      specText: spec('gone'),
      spec: {},
    });
    await expect(h.service.getWithInstancesOrThrow(gone.id)).rejects.toBeInstanceOf(NotFoundException);
    await expect(h.service.stop(stopCommand(gone.id), actor)).rejects.toBeInstanceOf(NotFoundException);
  });
});
