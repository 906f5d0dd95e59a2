import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../config/app-config';
import { KubernetesRuntime } from './kubernetes.runtime';
import { LocalProcessRuntime } from './local-process.runtime';
import { createRuntimeDriver } from './runtime.module';

describe('createRuntimeDriver', () => {
  it('builds the local driver by default', async () => {
    expect(await createRuntimeDriver(loadAppConfig({}))).toBeInstanceOf(LocalProcessRuntime);
  });

  it('builds the Kubernetes driver for SLUICE_RUNTIME=kubernetes (no API call at construction)', async () => {
    const driver = await createRuntimeDriver(
      loadAppConfig({ SLUICE_RUNTIME: 'kubernetes', SLUICE_K8S_DATABASE_SECRET: 'sluice-db' }),
    );
    expect(driver).toBeInstanceOf(KubernetesRuntime);
    expect(driver.kind).toBe('kubernetes');
  });
});
