// KubernetesRuntime against an in-memory KubernetesApi (no API server can run in unit tests).
// The fake keeps objects like the API server would: resourceVersions with conflicts, graceful
// deletes that leave the pod terminating; it does not run a StatefulSet controller, so tests
// place the pods they need.
import type {
  V1ConfigMap,
  V1Pod,
  V1ResourceRequirements,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { KubernetesRuntime, type KubernetesApi } from './kubernetes.runtime';
import type { InstanceLaunch } from './runtime-driver';

const NS = 'streaming';
const QUERY_ID = '3a7c1d0e-5b2f-4e8a-9c61-0d4f2b8e7a15';
const SET = 'sluice-clicks';

class FakeKubernetesApi implements KubernetesApi {
  readonly configMaps = new Map<string, V1ConfigMap>();
  readonly secrets = new Map<string, V1Secret>();
  readonly services = new Map<string, V1Service>();
  readonly statefulSets = new Map<string, V1StatefulSet>();
  readonly pods = new Map<string, V1Pod>();
  /** Every call that would change something, in order. */
  readonly writes: string[] = [];
  readonly selectors: string[] = [];
  private version = 1;

  private stored<T extends { metadata?: { resourceVersion?: string } }>(obj: T): T {
    const copy = structuredClone(obj);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.version) };
    return copy;
  }

  private key(obj: { metadata?: { namespace?: string; name?: string } }): string {
    return `${obj.metadata?.namespace}/${obj.metadata?.name}`;
  }

  async applyConfigMap(cm: V1ConfigMap): Promise<void> {
    this.writes.push(`apply ConfigMap ${cm.metadata?.name}`);
    this.configMaps.set(this.key(cm), this.stored(cm));
  }

  async applySecret(secret: V1Secret): Promise<void> {
    this.writes.push(`apply Secret ${secret.metadata?.name}`);
    this.secrets.set(this.key(secret), secret);
  }

  async applyService(svc: V1Service): Promise<void> {
    this.writes.push(`apply Service ${svc.metadata?.name}`);
    this.services.set(this.key(svc), this.stored(svc));
  }

  async applyStatefulSet(sts: V1StatefulSet): Promise<void> {
    const existing = this.statefulSets.get(this.key(sts));
    const rv = sts.metadata?.resourceVersion;
    if (existing && rv && rv !== existing.metadata?.resourceVersion) throw new Error('409 Conflict');
    this.writes.push(`apply StatefulSet ${sts.metadata?.name} replicas=${sts.spec?.replicas}`);
    this.statefulSets.set(this.key(sts), this.stored(sts));
  }

  async getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | null> {
    return structuredClone(this.statefulSets.get(`${namespace}/${name}`) ?? null);
  }

  async scaleStatefulSet(
    namespace: string,
    name: string,
    replicas: number,
    resourceVersion?: string,
  ): Promise<void> {
    const sts = this.statefulSets.get(`${namespace}/${name}`);
    if (!sts?.spec) throw new Error('404 Not Found');
    if (resourceVersion && resourceVersion !== sts.metadata?.resourceVersion) throw new Error('409 Conflict');
    this.writes.push(`scale ${name} ${replicas}`);
    this.statefulSets.set(`${namespace}/${name}`, this.stored({ ...sts, spec: { ...sts.spec, replicas } }));
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    this.selectors.push(labelSelector);
    const [k, v] = labelSelector.split('=');
    return [...this.pods.values()]
      .filter((p) => p.metadata?.namespace === namespace && k && p.metadata?.labels?.[k] === v)
      .map((p) => structuredClone(p));
  }

  async resizePod(
    namespace: string,
    name: string,
    container: string,
    resources: V1ResourceRequirements,
  ): Promise<void> {
    this.writes.push(`resize Pod ${name} cpu=${resources.limits?.cpu ?? 'none'}`);
    const c = this.pods.get(name)?.spec?.containers.find((x) => x.name === container);
    if (!c) throw new Error('404 Not Found');
    // As the API server: a resize may not change the pod's QoS class (add or remove a CPU limit).
    if (!c.resources?.limits?.cpu || !resources.limits?.cpu)
      throw Object.assign(new Error('422'), { body: 'Pod QoS is immutable' });
    c.resources = { ...c.resources, ...resources };
  }

  async annotatePod(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    this.writes.push(`annotate Pod ${name}`);
    const pod = this.pods.get(name);
    if (!pod?.metadata) return;
    const merged = { ...pod.metadata.annotations, ...annotations };
    pod.metadata.annotations = Object.fromEntries(
      Object.entries(merged).filter((e): e is [string, string] => e[1] !== null),
    );
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    this.writes.push(`delete Pod ${name} grace=${gracePeriodSeconds ?? 'default'}`);
    const pod = this.pods.get(name);
    if (!pod || pod.metadata?.namespace !== namespace) return;
    if (gracePeriodSeconds === 0) this.pods.delete(name);
    else pod.metadata.deletionTimestamp = new Date();
  }

  async deleteStatefulSet(namespace: string, name: string): Promise<void> {
    this.writes.push(`delete StatefulSet ${name}`);
    this.statefulSets.delete(`${namespace}/${name}`);
  }

  async deleteService(namespace: string, name: string): Promise<void> {
    this.writes.push(`delete Service ${name}`);
    this.services.delete(`${namespace}/${name}`);
  }

  async deleteSecrets(namespace: string, labelSelector: string): Promise<void> {
    this.writes.push(`delete Secrets ${labelSelector}`);
    const [k, v] = labelSelector.split('=');
    for (const [key, secret] of this.secrets)
      if (secret.metadata?.namespace === namespace && k && secret.metadata?.labels?.[k] === v)
        this.secrets.delete(key);
  }

  async deleteConfigMaps(namespace: string, labelSelector: string): Promise<void> {
    this.writes.push(`delete ConfigMaps ${labelSelector}`);
    const [k, v] = labelSelector.split('=');
    for (const [key, cm] of this.configMaps)
      if (cm.metadata?.namespace === namespace && k && cm.metadata?.labels?.[k] === v)
        this.configMaps.delete(key);
  }

  replicas(): number | undefined {
    return this.statefulSets.get(`${NS}/${SET}`)?.spec?.replicas;
  }

  /** A pod as the StatefulSet controller would create it from the stored template. */
  addPod(
    ordinal: number,
    status: V1Pod['status'] = { phase: 'Running', containerStatuses: [running()] },
  ): V1Pod {
    const template = this.statefulSets.get(`${NS}/${SET}`)?.spec?.template;
    const pod: V1Pod = {
      metadata: { ...structuredClone(template?.metadata), name: `${SET}-${ordinal}`, namespace: NS },
      spec: template?.spec,
      status,
    };
    this.pods.set(`${SET}-${ordinal}`, pod);
    return pod;
  }
}

const running = () => ({
  name: 'engine',
  image: 'x',
  imageID: '',
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: new Date() } },
});

const launch = (ordinal: number, version = 1): InstanceLaunch => ({
  queryId: QUERY_ID,
  queryName: 'clicks',
  instanceName: `clicks-${ordinal}`,
  ordinal,
  version,
  specText: `name: clicks # v${version}\n`,
  checkpointUri: '/var/lib/sluice/checkpoints/q',
  brokers: 'kafka:9092',
  rateLimit: null,
});

describe('KubernetesRuntime', () => {
  let api: FakeKubernetesApi;
  let runtime: KubernetesRuntime;

  beforeEach(() => {
    api = new FakeKubernetesApi();
    runtime = new KubernetesRuntime(api, {
      namespace: NS,
      image: 'ghcr.io/sluice/engine:0.1.0',
      databaseSecretName: 'sluice-db',
    });
  });

  describe('start', () => {
    it('applies the version ConfigMap, the headless Service and a StatefulSet with one replica', async () => {
      const i = await runtime.start(launch(0));
      expect(i).toEqual({
        name: 'clicks-0',
        ref: `pod:${SET}-0`,
        version: 1,
        state: 'running',
        exitCode: null,
        drained: false,
        exitedAt: null,
      });
      expect(api.writes).toEqual([
        'apply ConfigMap sluice-clicks-v1',
        'apply Service sluice-clicks',
        'apply StatefulSet sluice-clicks replicas=1',
      ]);
      expect(api.configMaps.get(`${NS}/sluice-clicks-v1`)?.data?.['spec.yaml']).toBe('name: clicks # v1\n');
      expect(api.services.get(`${NS}/${SET}`)?.spec?.clusterIP).toBe('None');
    });

    it('renders pods that know their instance id, version, spec and checkpoint database', async () => {
      await runtime.start(launch(0, 4));
      const sts = api.statefulSets.get(`${NS}/${SET}`);
      const pod = sts?.spec?.template.spec;
      const args = pod?.containers[0]?.args ?? [];
      const after = (flag: string) => args[args.indexOf(flag) + 1];
      expect(sts?.metadata?.namespace).toBe(NS);
      expect(after('--instance-id')).toBe('clicks-$(POD_INDEX)');
      expect(after('--query-version')).toBe('4');
      expect(after('--query-id')).toBe(QUERY_ID);
      // Not the control plane's local path: the pod reads DATABASE_URL from the secret.
      expect(after('--checkpoint')).toBe('$(DATABASE_URL)');
      expect(pod?.containers[0]?.image).toBe('ghcr.io/sluice/engine:0.1.0');
      expect(pod?.volumes).toEqual([
        { name: 'spec', configMap: { name: 'sluice-clicks-v4' } },
        { name: 'tmp', emptyDir: {} },
      ]);
      expect(sts?.spec?.template.metadata?.labels?.['sluice.dev/query-id']).toBe(QUERY_ID);
    });

    it('runs a new checkpoint lineage continuing an old one through the one checkpoint database', async () => {
      await runtime.start({
        ...launch(0, 3),
        checkpointEpoch: 2,
        continueFrom: { epoch: 1, checkpointUri: '/var/lib/sluice/checkpoints/q.c1' },
      });
      const args = api.statefulSets.get(`${NS}/${SET}`)?.spec?.template.spec?.containers[0]?.args ?? [];
      const after = (flag: string) => args[args.indexOf(flag) + 1];
      expect(after('--checkpoint')).toBe('$(DATABASE_URL)');
      expect(after('--checkpoint-epoch')).toBe('2');
      expect(after('--continue-from-epoch')).toBe('1');
      // The engine reads the old lineage from its own --checkpoint database, not a local path.
      expect(args).not.toContain('--continue-from');
    });

    it('hands a PostgreSQL sink its connection through a Secret of its own, never the template', async () => {
      const url = 'postgresql://sink:pw@sinks.db:5432/sinks';
      await runtime.start({ ...launch(0), sinkPostgresUrl: url });
      expect(api.writes[0]).toBe('apply Secret sluice-clicks-sink');
      expect(api.secrets.get(`${NS}/sluice-clicks-sink`)?.stringData).toEqual({ url });
      expect(api.secrets.get(`${NS}/sluice-clicks-sink`)?.metadata?.labels?.['sluice.dev/query-id']).toBe(
        QUERY_ID,
      );
      const sts = api.statefulSets.get(`${NS}/${SET}`);
      expect(sts?.spec?.template.spec?.containers[0]?.env).toContainEqual({
        name: 'SLUICE_SINK_POSTGRES_URL',
        valueFrom: { secretKeyRef: { name: 'sluice-clicks-sink', key: 'url' } },
      });
      expect(JSON.stringify(sts)).not.toContain('pw@');
      // A Kafka-sink query gets neither.
      const other = new FakeKubernetesApi();
      await new KubernetesRuntime(other, {
        namespace: NS,
        image: 'x',
        databaseSecretName: 'sluice-db',
      }).start(launch(0));
      expect(other.secrets.size).toBe(0);
      expect(JSON.stringify(other.statefulSets.get(`${NS}/${SET}`))).not.toContain(
        'SLUICE_SINK_POSTGRES_URL',
      );
    });

    it('is idempotent: starting a running ordinal again writes nothing', async () => {
      await runtime.start(launch(0));
      api.addPod(0);
      const before = structuredClone([...api.statefulSets.values()]);
      api.writes.length = 0;
      const again = await runtime.start(launch(0));
      expect(again.state).toBe('running');
      expect(api.writes).toEqual([]);
      expect([...api.statefulSets.values()]).toEqual(before);
    });

    it('raises replicas to ordinal + 1 and never lowers them', async () => {
      await runtime.start(launch(0));
      await runtime.start(launch(2));
      expect(api.replicas()).toBe(3);
      api.writes.length = 0;
      await runtime.start(launch(1));
      expect(api.replicas()).toBe(3);
      expect(api.writes).toEqual([]);
    });

    it('moves the template to a new version without touching running pods (OnDelete)', async () => {
      await runtime.start(launch(0, 1));
      await runtime.start(launch(1, 1));
      api.addPod(1);
      api.writes.length = 0;
      await runtime.start(launch(0, 2));
      expect(api.writes).toEqual([
        'apply ConfigMap sluice-clicks-v2',
        'apply Service sluice-clicks',
        'apply StatefulSet sluice-clicks replicas=2',
      ]);
      expect(
        api.statefulSets.get(`${NS}/${SET}`)?.spec?.template.metadata?.labels?.['sluice.dev/version'],
      ).toBe('2');
      expect(api.pods.get(`${SET}-1`)?.metadata?.labels?.['sluice.dev/version']).toBe('1');
    });

    it('restarts an exited pod by deleting it, so the StatefulSet recreates it now', async () => {
      await runtime.start(launch(0));
      api.addPod(0, {
        phase: 'Running',
        containerStatuses: [
          {
            ...running(),
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1 } },
          },
        ],
      });
      api.writes.length = 0;
      await runtime.start(launch(0));
      expect(api.writes).toEqual([`delete Pod ${SET}-0 grace=0`]);
    });

    it('refuses a StatefulSet of the same name that belongs to another query', async () => {
      await new KubernetesRuntime(api, { namespace: NS, image: 'img' }).start({
        ...launch(0),
        queryId: 'other',
      });
      await expect(runtime.start(launch(0))).rejects.toThrow(/belongs to query other/);
    });
  });

  describe('drain', () => {
    beforeEach(async () => {
      await runtime.start(launch(2));
      for (const o of [0, 1, 2]) api.addPod(o);
      api.writes.length = 0;
    });

    it('scales the StatefulSet down by one for the highest ordinal (Kubernetes sends SIGTERM)', async () => {
      await runtime.drain(QUERY_ID, 'clicks-2');
      expect(api.writes).toEqual([`scale ${SET} 2`]);
      expect(api.replicas()).toBe(2);
    });

    it('deletes a middle pod with its default grace period and keeps the replicas', async () => {
      await runtime.drain(QUERY_ID, 'clicks-1');
      expect(api.writes).toEqual([`delete Pod ${SET}-1 grace=default`]);
      expect(api.replicas()).toBe(3);
      expect(api.pods.get(`${SET}-1`)?.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    });

    it('drains every pod of an upgrade without the lower ones being recreated from the old template', async () => {
      for (const o of [0, 1, 2]) await runtime.drain(QUERY_ID, `clicks-${o}`);
      expect(api.writes).toEqual([
        `delete Pod ${SET}-0 grace=default`,
        `delete Pod ${SET}-1 grace=default`,
        `scale ${SET} 0`,
      ]);
      expect(api.replicas()).toBe(0);
    });

    it('does nothing for an ordinal the set no longer has', async () => {
      await runtime.drain(QUERY_ID, 'clicks-2');
      api.writes.length = 0;
      await runtime.drain(QUERY_ID, 'clicks-2');
      expect(api.writes).toEqual([]);
    });

    it('kill deletes the pod with no grace period', async () => {
      await runtime.kill(QUERY_ID, 'clicks-1');
      expect(api.writes).toEqual([`delete Pod ${SET}-1 grace=0`]);
      expect(api.pods.has(`${SET}-1`)).toBe(false);
    });

    it('forget changes nothing', async () => {
      await runtime.forget(QUERY_ID, 'clicks-1');
      expect(api.writes).toEqual([]);
    });

    it("remove deletes the StatefulSet, the Service and every version's ConfigMap of the query only", async () => {
      await runtime.start(launch(0, 1));
      await runtime.start(launch(0, 2));
      await api.applyConfigMap({
        metadata: { name: 'other-v1', namespace: NS, labels: { 'sluice.dev/query-id': 'someone-else' } },
      });
      api.writes.length = 0;
      await runtime.remove(QUERY_ID, 'clicks');
      expect(api.writes).toEqual([
        `delete StatefulSet ${SET}`,
        `delete Service ${SET}`,
        `delete ConfigMaps sluice.dev/query-id=${QUERY_ID}`,
        `delete Secrets sluice.dev/query-id=${QUERY_ID}`,
      ]);
      expect([...api.statefulSets.keys(), ...api.services.keys()]).toEqual([]);
      expect([...api.configMaps.keys()]).toEqual([`${NS}/other-v1`]);
    });
  });

  describe('list', () => {
    it('maps pod phases and exit codes to instances, by the query-id label, in ordinal order', async () => {
      await runtime.start(launch(5));
      const finishedAt = new Date('2026-01-02T03:04:05Z');
      api.addPod(3, {
        phase: 'Running',
        containerStatuses: [{ ...running(), state: { terminated: { exitCode: 0, finishedAt } } }],
      });
      api.addPod(0);
      api.addPod(1, { phase: 'Pending' });
      const draining = api.addPod(2);
      if (draining.metadata) draining.metadata.deletionTimestamp = new Date();
      api.addPod(4, {
        phase: 'Running',
        containerStatuses: [
          {
            ...running(),
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, finishedAt } },
          },
        ],
      });
      api.addPod(5, { phase: 'Failed' });
      api.pods.set('unrelated', {
        metadata: { name: 'unrelated', namespace: NS, labels: { 'sluice.dev/query-id': 'other' } },
      });

      const list = await runtime.list(QUERY_ID);
      expect(api.selectors).toContain(`sluice.dev/query-id=${QUERY_ID}`);
      const brief = list.map((i) => [i.name, i.state, i.exitCode, i.drained]);
      expect(brief).toEqual([
        ['clicks-0', 'running', null, false],
        ['clicks-1', 'running', null, false], // Pending: scheduled or pulling
        ['clicks-2', 'running', null, true], // terminating: draining
        ['clicks-3', 'exited', 0, true], // clean exit
        ['clicks-4', 'exited', 137, false], // crash loop: a crash for the reconciler
        ['clicks-5', 'exited', null, false],
      ]);
      expect(list[3]?.exitedAt).toEqual(finishedAt);
      expect(list.every((i) => i.version === 1)).toBe(true);
      expect(list[0]?.ref).toBe(`pod:${SET}-0`);
    });

    it('reads the version from the pod label, so an upgrade shows old and new pods apart', async () => {
      await runtime.start(launch(0, 1));
      api.addPod(0);
      await runtime.start(launch(1, 2));
      api.addPod(1);
      expect((await runtime.list(QUERY_ID)).map((i) => [i.name, i.version])).toEqual([
        ['clicks-0', 1],
        ['clicks-1', 2],
      ]);
    });

    it("says why a container crashed: the error line of its termination message, the kubelet's reason, or why it cannot start", async () => {
      await runtime.start(launch(3));
      const log = [
        '{"level":30,"msg":"engine started"}',
        'engine: index row requires 10024 bytes, maximum size is 8191',
        '{"level":30,"msg":"stopping"}',
      ].join('\n');
      api.addPod(0, {
        phase: 'Running',
        containerStatuses: [
          {
            ...running(),
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', message: log } },
          },
        ],
      });
      api.addPod(1, {
        phase: 'Running',
        containerStatuses: [{ ...running(), state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }],
      });
      api.addPod(2, {
        phase: 'Pending',
        containerStatuses: [
          {
            ...running(),
            state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied for sluice/engine' } },
          },
        ],
      });
      api.addPod(3, {
        phase: 'Running',
        containerStatuses: [
          {
            ...running(),
            state: { terminated: { exitCode: 0, reason: 'Completed', message: 'engine: drained' } },
          },
        ],
      });
      const byName = new Map((await runtime.list(QUERY_ID)).map((i) => [i.name, i]));
      expect(byName.get('clicks-0')?.lastError).toBe(
        'engine: index row requires 10024 bytes, maximum size is 8191',
      );
      expect(byName.get('clicks-1')?.lastError).toBe('OOMKilled');
      expect(byName.get('clicks-2')).toMatchObject({
        state: 'exited',
        lastError: 'ErrImagePull: pull access denied for sluice/engine',
      });
      expect(byName.get('clicks-3')?.lastError).toBeNull(); // a clean exit has nothing to explain
    });

    it('is empty when the query has no pods', async () => {
      expect(await runtime.list(QUERY_ID)).toEqual([]);
    });
  });

  describe('cpuLimit', () => {
    const engine = (p: V1Pod | V1StatefulSet | undefined) =>
      ('template' in (p?.spec ?? {})
        ? (p as V1StatefulSet).spec?.template.spec
        : (p as V1Pod | undefined)?.spec
      )?.containers.find((c) => c.name === 'engine');

    it("renders the query's limit as the pod's CPU request and limit, and reads it back as applied", async () => {
      await runtime.start({ ...launch(0), cpuLimit: 0.25 });
      const set = api.statefulSets.get(`${NS}/${SET}`);
      expect(engine(set)?.resources).toEqual({ requests: { cpu: '250m' }, limits: { cpu: '250m' } });
      api.addPod(0);
      expect((await runtime.list(QUERY_ID))[0]?.cpuLimit).toEqual({ requested: 0.25, applied: true });
    });

    it('without a limit the pod has none and the instance reports none', async () => {
      await runtime.start(launch(0));
      api.addPod(0);
      expect(engine(api.statefulSets.get(`${NS}/${SET}`))?.resources).toBeUndefined();
      expect((await runtime.list(QUERY_ID))[0]?.cpuLimit).toBeNull();
    });

    it('changes a limited pod in place and the template for pods to come', async () => {
      await runtime.start({ ...launch(0), cpuLimit: 0.25 });
      api.addPod(0);
      await runtime.setCpuLimit(QUERY_ID, 'clicks-0', 0.5);
      expect(engine(api.statefulSets.get(`${NS}/${SET}`))?.resources?.limits?.cpu).toBe('500m');
      expect(engine(api.pods.get(`${SET}-0`))?.resources?.limits?.cpu).toBe('500m');
      expect((await runtime.list(QUERY_ID))[0]?.cpuLimit).toEqual({ requested: 0.5, applied: true });
    });

    it('a refused resize is shown as not applied with the reason, and not retried for the same limit', async () => {
      await runtime.start(launch(0));
      api.addPod(0);
      await runtime.setCpuLimit(QUERY_ID, 'clicks-0', 0.5);
      const shown = (await runtime.list(QUERY_ID))[0]?.cpuLimit;
      expect(shown).toMatchObject({ requested: 0.5, applied: false });
      expect(shown?.reason).toMatch(/no CPU limit until it is replaced: Pod QoS is immutable/);
      const writes = api.writes.length;
      await runtime.setCpuLimit(QUERY_ID, 'clicks-0', 0.5);
      expect(api.writes.slice(writes)).toEqual([]);
      // The pod the set creates next has the limit.
      api.pods.clear();
      api.addPod(0);
      expect((await runtime.list(QUERY_ID))[0]?.cpuLimit).toEqual({ requested: 0.5, applied: true });
    });
  });
});
