import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../config/app-config';
import { progressGroupId } from '../progress/ingest-messages';
import { clusterName, clusterSlug } from './cluster-name';

describe('cluster name', () => {
  it('is SLUICE_CLUSTER_NAME when set, else the runtime the replicas share', () => {
    expect(clusterName(loadAppConfig({ SLUICE_CLUSTER_NAME: 'prod-eu' }))).toBe('prod-eu');
    expect(clusterName(loadAppConfig({ SLUICE_HOME: '/var/lib/sluice' }))).toBe('local//var/lib/sluice');
  });

  it('gives replicas of one runtime one progress group, and other runtimes another', () => {
    const a1 = progressGroupId(clusterName(loadAppConfig({ SLUICE_HOME: '/srv/a' })));
    const a2 = progressGroupId(clusterName(loadAppConfig({ SLUICE_HOME: '/srv/a/' })));
    const b = progressGroupId(clusterName(loadAppConfig({ SLUICE_HOME: '/srv/b' })));
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b);
    expect(a1).toMatch(/^sluice-control-plane-progress-scope-[0-9a-f]{8}$/);
    expect(progressGroupId('prod-eu')).toBe('sluice-control-plane-progress-prod-eu');
    expect(clusterSlug('prod-eu')).toBe('prod-eu');
  });
});
