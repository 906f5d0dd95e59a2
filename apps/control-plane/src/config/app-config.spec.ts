import { describe, expect, it } from 'vitest';
import { ConfigError, loadAppConfig } from './app-config';

describe('loadAppConfig', () => {
  it('fills local-stack defaults when nothing is set', () => {
    const c = loadAppConfig({});
    expect(c.SLUICE_API_PORT).toBe(4400);
    expect(c.DATABASE_URL).toBe('postgresql://sluice@127.0.0.1:55432/sluice');
    expect(c.KAFKA_BROKERS).toBe('127.0.0.1:59092');
  });

  it('coerces numeric strings', () => {
    expect(loadAppConfig({ SLUICE_API_PORT: '5000' }).SLUICE_API_PORT).toBe(5000);
  });

  it('names every bad variable', () => {
    try {
      loadAppConfig({ SLUICE_API_PORT: '70000', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const issues = (e as ConfigError).issues.join('\n');
      expect(issues).toMatch(/^SLUICE_API_PORT: .*70000/m);
      expect(issues).toMatch(/^REDIS_URL: must be a redis: or rediss:\/\/ URL/m);
      expect(issues).toMatch(/^LOG_LEVEL: /m);
    }
  });

  it('rejects a malformed broker list', () => {
    expect(() => loadAppConfig({ KAFKA_BROKERS: 'localhost' })).toThrow(
      /KAFKA_BROKERS: must be a comma-separated list/,
    );
  });

  it('does not print a short bootstrap token back', () => {
    try {
      loadAppConfig({ SLUICE_BOOTSTRAP_TOKEN: 'secret-value' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).message).toContain('SLUICE_BOOTSTRAP_TOKEN: must be at least 24 characters');
      expect((e as ConfigError).message).not.toContain('secret-value');
    }
  });

  it('defaults the Kubernetes runtime settings', () => {
    const c = loadAppConfig({});
    expect(c.SLUICE_K8S_NAMESPACE).toBe('default');
    expect(c.SLUICE_ENGINE_IMAGE).toBe('ghcr.io/sluice/engine:latest');
    expect(c.SLUICE_K8S_DATABASE_SECRET).toBeUndefined();
  });

  it('accepts image references with registry port, tag and digest', () => {
    for (const image of [
      'localhost:5000/sluice/engine:v0.1.0-rc.1',
      `ghcr.io/sluice/engine@sha256:${'a'.repeat(64)}`,
      'engine',
    ]) {
      expect(loadAppConfig({ SLUICE_ENGINE_IMAGE: image }).SLUICE_ENGINE_IMAGE).toBe(image);
    }
  });

  it('names bad Kubernetes runtime settings', () => {
    try {
      loadAppConfig({
        SLUICE_K8S_NAMESPACE: 'Streaming_NS',
        SLUICE_ENGINE_IMAGE: 'Has Space:1',
        SLUICE_K8S_DATABASE_SECRET: '-db',
        SLUICE_K8S_ENGINE_MEMORY: '1 GB',
      });
      expect.unreachable();
    } catch (e) {
      const issues = (e as ConfigError).issues.join('\n');
      expect(issues).toMatch(/^SLUICE_K8S_NAMESPACE: must be a DNS-1123 label.*Streaming_NS/m);
      expect(issues).toMatch(/^SLUICE_ENGINE_IMAGE: must be a container image reference/m);
      expect(issues).toMatch(/^SLUICE_K8S_DATABASE_SECRET: must be a Secret name/m);
      expect(issues).toMatch(/^SLUICE_K8S_ENGINE_MEMORY: must be a Kubernetes quantity/m);
    }
  });

  it('requires the database secret for SLUICE_RUNTIME=kubernetes', () => {
    expect(() => loadAppConfig({ SLUICE_RUNTIME: 'kubernetes' })).toThrow(
      /SLUICE_K8S_DATABASE_SECRET: required when SLUICE_RUNTIME=kubernetes/,
    );
    const c = loadAppConfig({
      SLUICE_RUNTIME: 'kubernetes',
      SLUICE_K8S_DATABASE_SECRET: 'sluice-db',
      SLUICE_K8S_ENGINE_CPU: '500m',
    });
    expect(c.SLUICE_K8S_DATABASE_SECRET).toBe('sluice-db');
    expect(c.SLUICE_K8S_ENGINE_CPU).toBe('500m');
  });

  it('treats empty strings as unset', () => {
    expect(loadAppConfig({ SLUICE_API_PORT: '' }).SLUICE_API_PORT).toBe(4400);
  });

  it('checks the scaling policy settings: names the unknown option', () => {
    expect(() =>
      loadAppConfig({ SLUICE_SCALING_POLICY_SETTINGS: JSON.stringify({ sluice: { downHold: 60 } }) }),
    ).toThrow(/SLUICE_SCALING_POLICY_SETTINGS.*sluice\.downHold: unknown option/);
    expect(() => loadAppConfig({ SLUICE_SCALING_POLICY_SETTINGS: '{' })).toThrow(/must be JSON/);
    expect(
      loadAppConfig({ SLUICE_SCALING_POLICY_SETTINGS: JSON.stringify({ sluice: { downHoldSeconds: 60 } }) })
        .SLUICE_SCALING_POLICY_SETTINGS,
    ).toBe('{"sluice":{"downHoldSeconds":60}}');
  });
});
