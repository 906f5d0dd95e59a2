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
    expect(() => loadAppConfig({ KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS: must be a comma-separated list/);
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

  it('treats empty strings as unset', () => {
    expect(loadAppConfig({ SLUICE_API_PORT: '' }).SLUICE_API_PORT).toBe(4400);
  });
});
