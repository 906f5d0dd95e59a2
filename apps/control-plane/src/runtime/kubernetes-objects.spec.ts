import { describe, expect, it } from 'vitest';
import { objectName, renderQueryObjects, type KubernetesQueryRender } from './kubernetes-objects';

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
  it('renders a ConfigMap per version holding the spec', () => {
    const { configMap } = renderQueryObjects(base);
    expect(configMap.metadata?.name).toBe('sluice-clicks-per-user-v3');
    expect(configMap.data?.['spec.yaml']).toBe(base.specText);
  });

  it('renders a Deployment with the desired replicas, Recreate strategy and the engine CLI', () => {
    const { deployment } = renderQueryObjects(base);
    expect(deployment.spec?.replicas).toBe(4);
    expect(deployment.spec?.strategy?.type).toBe('Recreate');
    const c = deployment.spec?.template.spec?.containers[0];
    expect(c?.args).toEqual([
      'run', '--spec', '/etc/sluice/spec.yaml', '--checkpoint', 'postgresql://checkpoints',
      '--instance-id', '$(POD_NAME)', '--query-id', base.queryId, '--brokers', 'kafka:9092', '--query-version', String(base.version),
    ]);
    expect(c?.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'sluice-db', key: 'DATABASE_URL' });
    expect(deployment.spec?.template.metadata?.labels?.['sluice.dev/version']).toBe('3');
  });

  it('runs as non-root with a read-only root filesystem', () => {
    const pod = renderQueryObjects(base).deployment.spec?.template.spec;
    expect(pod?.securityContext?.runAsNonRoot).toBe(true);
    expect(pod?.containers[0]?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it('selects its pods consistently from the Deployment and the headless Service', () => {
    const { deployment, service } = renderQueryObjects(base);
    expect(service.spec?.clusterIP).toBe('None');
    expect(service.spec?.selector).toEqual(deployment.spec?.selector.matchLabels);
    for (const [k, v] of Object.entries(service.spec?.selector ?? {})) {
      expect(deployment.spec?.template.metadata?.labels?.[k]).toBe(v);
    }
  });

  it('omits the database secret when none is configured', () => {
    const { deployment } = renderQueryObjects({ ...base, databaseSecretName: undefined });
    expect(deployment.spec?.template.spec?.containers[0]?.env?.map((e) => e.name)).toEqual(['POD_NAME']);
  });
});

describe('objectName', () => {
  it('is a DNS-1123 label of at most 63 characters', () => {
    expect(objectName('Orders_Per_Minute')).toBe('sluice-orders-per-minute');
    const long = objectName('x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
