// An upgrade on the Kubernetes runtime, against the local API server (the stack's `kube` component,
// kwok simulating the node), with the control plane SIGKILLed in the middle: a new control plane
// resumes the operation at its step, the StatefulSet ends on the new version's ConfigMap, the old
// one is kept, and a rollback points the set back at it.
//
// What this can observe: the operation's steps and figures (API), the objects in the API server
// (StatefulSet template, ConfigMaps, ControllerRevisions, every pod incarnation by uid). What it
// cannot: kwok runs no container, so no engine drains, acknowledges commands, commits batches or
// reports progress by itself. The progress events the engines in the new version's pods would send
// are published here on `sluice.progress` (one per Running pod a second, as a caught-up engine
// reports), so the health gate judges real ingested events; exactly-once across the hand-over is
// the local runtime's to prove (upgrade.int.ts, upgrade-resume.int.ts).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRESS_TOPIC } from '@sluice/contracts';
import { createKafka, parseBrokers } from '@sluice/kafka';
import type { KubeCluster } from '../../../scripts/test/kube-cluster';
import {
  startKubeControlPlane,
  startKubeSuite,
  stopKubeSuite,
  type KubeControlPlane,
} from './support/kube-control-plane';
import { eventsSpec, eventually } from './support/test-app';
import type { IsolatedStack } from './upgrade-support';
import { REDIS_INDEXES } from './support/redis-indexes';

interface Pod {
  metadata: { name: string; uid: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: { containers: Array<{ name: string; args: string[] }> };
  status: { phase?: string };
}
interface List<T> {
  items: T[];
}
interface StatefulSet {
  spec: {
    replicas: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: { volumes: Array<{ name: string; configMap?: { name: string } }> };
    };
  };
}
interface Op {
  id: string;
  state: string;
  error: string | null;
  attempts: number;
  steps: Array<{ name: string; state: string; message?: string; figures?: Record<string, unknown> }>;
}

const suffix = randomUUID().slice(0, 8);
const NS = `ku-${suffix}`;
const QUERY = `ku-${suffix}`;
const SET = `sluice-${QUERY}`;
const SOURCE = `it-ku-${suffix}`;
const kafka = createKafka({
  brokers: parseBrokers(process.env.KAFKA_BROKERS ?? ''),
  clientId: 'it-kube-upgrade',
});
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kube-upgrade-'));
let kube: KubeCluster;
let stack: IsolatedStack | undefined;
let token: string;
let cp: KubeControlPlane | undefined;
// A cluster of its own: its progress ingest group (and Lease) are its own too, so the progress
// published below reaches this control plane and no other.
const CLUSTER = `it-kube-upgrade-${suffix}`;
const env = () => ({ ...stack!.env, SLUICE_CLUSTER_NAME: CLUSTER });

async function call<T>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cp!.base}${url}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined
        ? { 'Content-Type': typeof body === 'string' ? 'application/yaml' : 'application/json' }
        : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const operation = (id: string) => call<Op>('GET', `/api/v1/operations/${id}`).then((r) => r.body);
async function finished(id: string, what: string): Promise<Op> {
  const op = await eventually(
    () => operation(id),
    (o) => o.state === 'SUCCEEDED' || o.state === 'FAILED',
    300_000,
    what,
  );
  if (op.state === 'FAILED') console.error(`${what} failed:`, JSON.stringify(op));
  return op;
}

async function pods(queryId: string): Promise<Pod[]> {
  const r = await kube.kubeFetch<List<Pod>>(
    'GET',
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`sluice.dev/query-id=${queryId}`)}`,
  );
  return r.status === 200 ? r.body.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)) : [];
}
const live = (ps: Pod[]) => ps.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running');
const statefulSet = () =>
  kube.kubeFetch<StatefulSet>('GET', `/apis/apps/v1/namespaces/${NS}/statefulsets/${SET}`);
const specConfigMap = (s: StatefulSet) =>
  s.spec.template.spec.volumes.find((v) => v.configMap)?.configMap?.name;
const configMapStatus = async (version: number) =>
  (await kube.kubeFetch('GET', `/api/v1/namespaces/${NS}/configmaps/${SET}-v${version}`)).status;

/** The second-by-second progress a caught-up engine of `version` in each Running pod would publish. */
function progressOf(queryId: string, version: number, checkpointEpoch = 0) {
  const producer = kafka.producer();
  let running = true;
  let batchId = 0;
  const loop = (async () => {
    await producer.connect();
    while (running) {
      const ps = live(await pods(queryId)).filter(
        (p) => p.metadata.labels['sluice.dev/version'] === String(version),
      );
      batchId++;
      const messages = ps.map((p) => {
        const instance = `${QUERY}-${p.metadata.labels['apps.kubernetes.io/pod-index']}`;
        const offsets = { [SOURCE]: { '0': 0 } };
        return {
          key: queryId,
          value: JSON.stringify({
            id: queryId,
            runId: p.metadata.uid,
            name: QUERY,
            timestamp: new Date().toISOString(),
            batchId,
            batchDuration: 5,
            numInputRows: 0,
            inputRowsPerSecond: 0,
            processedRowsPerSecond: 0,
            durationMs: { triggerExecution: 5 },
            stateOperators: [],
            sources: [
              {
                description: `KafkaV2[Subscribe[${SOURCE}]]`,
                startOffset: offsets,
                endOffset: offsets,
                latestOffset: offsets,
                numInputRows: 0,
                inputRowsPerSecond: 0,
                processedRowsPerSecond: 0,
              },
            ],
            sink: { description: 'KafkaSink', numOutputRows: 0 },
            sluice: {
              queryVersion: version,
              instance,
              rateLimit: null,
              invalidRows: 0,
              ackedCommands: [],
              tasks: [`src.${SOURCE}.0`],
              checkpointEpoch,
            },
          }),
        };
      });
      if (messages.length > 0) await producer.send({ topic: PROGRESS_TOPIC, messages });
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await producer.disconnect();
    },
  };
}

beforeAll(
  async () => {
    // A database and Redis index of its own (upgrade-support.ts): nobody else's control plane may
    // reconcile this query or run its operations.
    ({ kube, stack, token, cp } = await startKubeSuite({
      namespace: NS,
      database: 'sluice_it_kube_upgrade',
      redisIndex: REDIS_INDEXES.kubernetesUpgrade,
      tokenName: `kube-upgrade-${suffix}`,
      cpName: `cp1-${suffix}`,
      home,
      env: { SLUICE_CLUSTER_NAME: CLUSTER },
    }));
  },
  60 * 60 * 1000,
);

afterAll(async () => {
  await stopKubeSuite({ cp, kube, stack }, NS);
});

describe('an upgrade on the Kubernetes runtime', () => {
  let queryId: string;

  /** Every pod incarnation of the query seen until `stop` (uid → version), across kills and restarts. */
  function samplePods(): { seen: Map<string, string>; stop: () => Promise<void> } {
    const seen = new Map<string, string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const p of await pods(queryId).catch(() => []))
          seen.set(p.metadata.uid, p.metadata.labels['sluice.dev/version'] ?? '?');
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    return {
      seen,
      stop: async () => {
        sampling = false;
        await sampler;
      },
    };
  }

  /**
   * A new control plane `name` on the same database and Redis, a second after the old one was
   * SIGKILLed: it takes over once the old one's Lease expires and resumes the operation.
   */
  async function restartControlPlane(name: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 1000));
    cp = await startKubeControlPlane(kube, { name, namespace: NS, home, env: env() });
  }

  /** The query reads RUNNING at `version`, which is also its last good one. */
  async function expectRunningAt(version: number): Promise<void> {
    const q = await call<{
      phase: string;
      desired: { version: number };
      observed: { lastGoodVersion: number };
    }>('GET', `/api/v1/queries/${queryId}`);
    expect(q.body).toMatchObject({
      phase: 'RUNNING',
      desired: { version },
      observed: { lastGoodVersion: version },
    });
  }

  it('resumes after the control plane is SIGKILLed once the new ConfigMap exists, and rolls back onto the old one', async () => {
    const created = await call<{ id: string; operation: { id: string } }>(
      'POST',
      '/api/v1/queries',
      eventsSpec(QUERY, SOURCE, `it-ku-out-${suffix}`),
    );
    expect(created.status).toBe(201);
    queryId = created.body.id;
    expect((await finished(created.body.operation.id, 'deploy')).state).toBe('SUCCEEDED');
    const scaled = await call<{ id: string }>('POST', `/api/v1/queries/${queryId}/scale`, { instances: 2 });
    expect((await finished(scaled.body.id, 'scale to 2')).state).toBe('SUCCEEDED');
    expect(live(await pods(queryId)).map((p) => p.metadata.labels['sluice.dev/version'])).toEqual(['1', '1']);

    const v2 = await call<{ version: number }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      eventsSpec(QUERY, SOURCE, `it-ku-out-${suffix}`).replace('amount > 10', 'amount > 20'),
    );
    expect(v2.body.version).toBe(2);

    // Every pod incarnation seen from here on, across the kill and the restart.
    const { seen, stop: stopSampling } = samplePods();
    const progress = progressOf(queryId, 2);
    try {
      const upgrade = await call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
        version: 2,
        strategy: 'in-place',
        healthGate: { batches: 3, windowSeconds: 120 },
      });
      expect(upgrade.status, JSON.stringify(upgrade.body)).toBe(202);
      // The drain step wrote the new target; the reconciler applied version 2's ConfigMap: kill.
      await eventually(
        () => configMapStatus(2),
        (s) => s === 200,
        120_000,
        'the ConfigMap of version 2',
      );
      void cp!.kill(); // SIGKILL now; its exit is not waited for
      const atKill = await operation(upgrade.body.id).catch(() => undefined);
      // No control plane: the StatefulSet goes on by itself until the new one resumes the operation.
      await restartControlPlane(`cp2-${suffix}`);

      const op = await finished(upgrade.body.id, 'the upgrade after the restart');
      expect(op.state, op.error ?? '').toBe('SUCCEEDED');
      expect(op.attempts).toBeGreaterThanOrEqual(2);
      expect(op.steps.map((s) => [s.name, s.state])).toEqual([
        ['check compatibility', 'done'],
        ['drain old version', 'done'],
        ['start new version', 'done'],
        ['health gate', 'done'],
        ['mark last good version', 'done'],
      ]);
      if (atKill) expect(op.steps.map((s) => s.name)).toEqual(atKill.steps.map((s) => s.name));
      expect(op.steps.find((s) => s.name === 'health gate')?.figures).toMatchObject({
        instancesReporting: 2,
      });
    } finally {
      await progress.stop();
    }

    const set = await statefulSet();
    expect(set.body.spec.replicas).toBe(2);
    expect(specConfigMap(set.body)).toBe(`${SET}-v2`);
    expect(set.body.spec.template.metadata.labels['sluice.dev/version']).toBe('2');
    expect(await configMapStatus(1)).toBe(200); // kept for a rollback
    expect(
      live(await pods(queryId)).map((p) => [p.metadata.name, p.metadata.labels['sluice.dev/version']]),
    ).toEqual([
      [`${SET}-0`, '2'],
      [`${SET}-1`, '2'],
    ]);
    await expectRunningAt(2);

    // Nothing started twice: one incarnation per ordinal of version 2, and the set's template went
    // through two revisions only (version 1, version 2), not a third written by the resumed step.
    await new Promise((r) => setTimeout(r, 3000));
    const v2Pods = [...seen].filter(([, v]) => v === '2');
    expect(v2Pods).toHaveLength(2);
    const revisions = await kube.kubeFetch<List<{ metadata: { name: string } }>>(
      'GET',
      `/apis/apps/v1/namespaces/${NS}/controllerrevisions?labelSelector=${encodeURIComponent(`sluice.dev/query-id=${queryId}`)}`,
    );
    expect(revisions.body.items).toHaveLength(2);

    // A rollback by hand points the StatefulSet back at version 1's ConfigMap (no gate to feed).
    const rollback = await call<Op>('POST', `/api/v1/queries/${queryId}/rollback`, {});
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(202);
    const rolled = await finished(rollback.body.id, 'rollback');
    expect(rolled.state, rolled.error ?? '').toBe('SUCCEEDED');
    await stopSampling();
    const back = await statefulSet();
    expect(specConfigMap(back.body)).toBe(`${SET}-v1`);
    expect(back.body.spec.template.metadata.labels['sluice.dev/version']).toBe('1');
    expect(await configMapStatus(2)).toBe(200);
    const after = await eventually(
      async () => live(await pods(queryId)),
      (ps) => ps.length === 2 && ps.every((p) => p.metadata.labels['sluice.dev/version'] === '1'),
      60_000,
      'version 1 pods',
    );
    expect(after.map((p) => p.metadata.name)).toEqual([`${SET}-0`, `${SET}-1`]);
    await expectRunningAt(1);
  }, 900_000);

  it('resumes a new-checkpoint upgrade after a SIGKILL once the old pods are drained: the pods continue the old lineage', async () => {
    const v3 = await call<{ version: number }>(
      'POST',
      `/api/v1/queries/${queryId}/versions`,
      eventsSpec(QUERY, SOURCE, `it-ku-out-${suffix}`).replace('amount > 10', 'amount > 30'),
    );
    expect(v3.body.version).toBe(3);
    const { seen, stop: stopSampling } = samplePods();
    const progress = progressOf(queryId, 3, 1);
    try {
      const upgrade = await call<Op>('POST', `/api/v1/queries/${queryId}/upgrade`, {
        version: 3,
        strategy: 'new-checkpoint',
        startingOffsets: 'continue',
        healthGate: { batches: 3, windowSeconds: 120 },
      });
      expect(upgrade.status, JSON.stringify(upgrade.body)).toBe(202);
      // Killed once every old pod is gone (the query is held stopped until then).
      await eventually(
        () => operation(upgrade.body.id),
        (o) => o.steps.find((s) => s.name === 'drain old version')?.state === 'done',
        120_000,
        'the drain step done',
      );
      void cp!.kill(); // SIGKILL now; its exit is not waited for
      await restartControlPlane(`cp3-${suffix}`);
      const op = await finished(upgrade.body.id, 'the new-checkpoint upgrade after the restart');
      expect(op.state, op.error ?? '').toBe('SUCCEEDED');
      expect(op.attempts).toBeGreaterThanOrEqual(2);
      expect(op.steps.every((s) => s.state === 'done')).toBe(true);
    } finally {
      await progress.stop();
    }
    await stopSampling();
    const set = await statefulSet();
    expect(specConfigMap(set.body)).toBe(`${SET}-v3`);
    for (const v of [1, 2, 3]) expect(await configMapStatus(v)).toBe(200);
    const running = live(await pods(queryId));
    expect(running.map((p) => [p.metadata.name, p.metadata.labels['sluice.dev/version']])).toEqual([
      [`${SET}-0`, '3'],
      [`${SET}-1`, '3'],
    ]);
    // The pods run the new lineage, continuing where the old one's batches ended.
    const args = running[0]!.spec.containers.find((c) => c.name === 'engine')!.args.join(' ');
    expect(args).toContain('--checkpoint-epoch 1');
    expect(args).toContain('--continue-from-epoch 0');
    expect([...seen].filter(([, v]) => v === '3')).toHaveLength(2);
    const q = await call<{ phase: string; desired: { version: number; checkpointEpoch: number } }>(
      'GET',
      `/api/v1/queries/${queryId}`,
    );
    expect(q.body).toMatchObject({ phase: 'RUNNING', desired: { version: 3, checkpointEpoch: 1 } });
  }, 900_000);
});
