import { describe, expect, it } from 'vitest';
import { LMDB_ENGINE_NODE_FLAGS } from '@sluice/query-plan';
import {
  ANNOTATION_TEMPLATE_HASH,
  ENGINE_NODE_FLAGS_ENV,
  objectName,
  podName,
  renderQueryObjects,
  type KubernetesQueryRender,
} from './kubernetes-objects';

const base: KubernetesQueryRender = {
  namespace: 'streaming',
  queryId: '3a7c1d0e-5b2f-4e8a-9c61-0d4f2b8e7a15',
  queryName: 'clicks-per-user',
  version: 3,
  instances: 4,
  specText: 'name: clicks-per-user\n',
  image: 'ghcr.io/example/sluice-engine:0.1.0',
  checkpointUri: 'postgresql://checkpoints',
  brokers: 'kafka:9092',
  databaseSecretName: 'sluice-db',
};

describe('renderQueryObjects', () => {
  it("puts a join's table connections in the query's Secret, never in the pod template or ConfigMap", () => {
    const url = 'postgresql://reader:pw@crm:5432/crm';
    const { sinkSecret, statefulSet, configMap } = renderQueryObjects({
      ...base,
      tablePostgresUrls: { crm: url },
    });
    expect(sinkSecret?.stringData).toEqual({ tables: JSON.stringify({ crm: url }) });
    const env = statefulSet.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'SLUICE_TABLE_POSTGRES_URLS')?.valueFrom?.secretKeyRef).toEqual({
      name: 'sluice-clicks-per-user-sink',
      key: 'tables',
    });
    expect(JSON.stringify([statefulSet, configMap])).not.toContain('pw@crm');
  });

  it('renders no Secret for a query with neither a PostgreSQL sink nor tables', () => {
    expect(renderQueryObjects({ ...base, tablePostgresUrls: {} }).sinkSecret).toBeNull();
  });

  it('renders a ConfigMap per version holding the spec', () => {
    const { configMap } = renderQueryObjects(base);
    expect(configMap.metadata?.name).toBe('sluice-clicks-per-user-v3');
    expect(configMap.data?.['spec.yaml']).toBe(base.specText);
  });

  it('renders a StatefulSet: desired replicas, parallel pods, OnDelete updates, the engine CLI', () => {
    const { statefulSet } = renderQueryObjects(base);
    expect(statefulSet.kind).toBe('StatefulSet');
    expect(statefulSet.spec?.replicas).toBe(4);
    expect(statefulSet.spec?.serviceName).toBe('sluice-clicks-per-user');
    expect(statefulSet.spec?.podManagementPolicy).toBe('Parallel');
    expect(statefulSet.spec?.updateStrategy).toEqual({ type: 'OnDelete' });
    const c = statefulSet.spec?.template.spec?.containers[0];
    expect(c?.args).toEqual([
      'run',
      '--spec',
      '/etc/sluice/spec.yaml',
      '--checkpoint',
      'postgresql://checkpoints',
      '--instance-id',
      'clicks-per-user-$(POD_INDEX)',
      '--query-id',
      base.queryId,
      '--brokers',
      'kafka:9092',
      '--query-version',
      String(base.version),
    ]);
    expect(c?.env?.find((e) => e.name === 'POD_INDEX')?.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.labels['apps.kubernetes.io/pod-index']",
    );
    expect(c?.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'sluice-db',
      key: 'DATABASE_URL',
    });
    expect(statefulSet.spec?.template.metadata?.labels?.['sluice.dev/version']).toBe('3');
    expect(statefulSet.spec?.template.metadata?.annotations?.['sluice.dev/query-name']).toBe(
      'clicks-per-user',
    );
    expect(statefulSet.spec?.template.spec?.terminationGracePeriodSeconds).toBe(60);
    // A crashed engine's last log lines become its termination message (the crash reason).
    expect(c?.terminationMessagePolicy).toBe('FallbackToLogsOnError');
  });

  it('mounts the version ConfigMap read-only and a writable /tmp', () => {
    const { statefulSet, configMap } = renderQueryObjects(base);
    const pod = statefulSet.spec?.template.spec;
    expect(pod?.volumes).toEqual([
      { name: 'spec', configMap: { name: configMap.metadata?.name } },
      { name: 'tmp', emptyDir: {} },
    ]);
    expect(pod?.containers[0]?.volumeMounts).toEqual([
      { name: 'spec', mountPath: '/etc/sluice', readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ]);
  });

  it('passes the rate limit and resources when given', () => {
    const c = renderQueryObjects({ ...base, rateLimit: 500, resources: { cpu: '500m', memory: '1Gi' } })
      .statefulSet.spec?.template.spec?.containers[0];
    expect(c?.args?.slice(-2)).toEqual(['--rate-limit', '500']);
    expect(c?.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } });
    expect(
      renderQueryObjects(base).statefulSet.spec?.template.spec?.containers[0]?.resources,
    ).toBeUndefined();
  });

  it('fingerprints the pod template, so a new version or setting changes the hash', () => {
    const hashOf = (r: KubernetesQueryRender) =>
      renderQueryObjects(r).statefulSet.metadata?.annotations?.[ANNOTATION_TEMPLATE_HASH];
    expect(hashOf(base)).toBe(hashOf({ ...base, instances: 9 }));
    expect(hashOf(base)).not.toBe(hashOf({ ...base, version: 4 }));
    expect(hashOf(base)).not.toBe(hashOf({ ...base, image: 'ghcr.io/example/sluice-engine:0.2.0' }));
  });

  it('runs as non-root with a read-only root filesystem and no service-account token', () => {
    const pod = renderQueryObjects(base).statefulSet.spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('selects its pods consistently from the StatefulSet and the headless Service', () => {
    const { statefulSet, service } = renderQueryObjects(base);
    expect(service.metadata?.name).toBe(statefulSet.spec?.serviceName);
    expect(service.spec?.clusterIP).toBe('None');
    expect(service.spec?.selector).toEqual(statefulSet.spec?.selector.matchLabels);
    for (const [k, v] of Object.entries(service.spec?.selector ?? {})) {
      expect(statefulSet.spec?.template.metadata?.labels?.[k]).toBe(v);
    }
  });

  it("gives an lmdb query's pods the lmdb node flags for the entrypoint's node command line, others none", () => {
    const env = (specText: string) =>
      renderQueryObjects({ ...base, specText }).statefulSet.spec?.template.spec?.containers[0]?.env ?? [];
    const lmdb = env('name: clicks-per-user\noptions: { stateStore: lmdb }\n');
    expect(lmdb.find((e) => e.name === ENGINE_NODE_FLAGS_ENV)?.value).toBe(LMDB_ENGINE_NODE_FLAGS.join(' '));
    for (const other of ['name: clicks-per-user\noptions: { stateStore: memory }\n', base.specText])
      expect(env(other).some((e) => e.name === ENGINE_NODE_FLAGS_ENV)).toBe(false);
  });

  it('omits the database secret when none is configured', () => {
    const { statefulSet } = renderQueryObjects({ ...base, databaseSecretName: undefined });
    expect(statefulSet.spec?.template.spec?.containers[0]?.env?.map((e) => e.name)).toEqual(['POD_INDEX']);
  });
});

describe('objectName', () => {
  it('is a DNS-1123 label short enough for StatefulSet pod labels (52 characters)', () => {
    expect(objectName('Orders_Per_Minute')).toBe('sluice-orders-per-minute');
    const long = objectName('x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(52);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('keeps two long names with a common prefix apart', () => {
    const prefix = 'a'.repeat(60);
    expect(objectName(`${prefix}-one`)).not.toBe(objectName(`${prefix}-two`));
  });

  it('names pods <objectName>-<ordinal>', () => {
    expect(podName('clicks-per-user', 2)).toBe('sluice-clicks-per-user-2');
  });
});
