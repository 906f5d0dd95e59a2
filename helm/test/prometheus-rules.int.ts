// The generated alert rules under Prometheus' own checker: `promtool check rules` parses every
// expression and annotation template; `promtool test rules` evaluates them over input series that
// must fire each rule and series that must not (helm/test/promtool/*.test.yaml), with the
// annotations as Prometheus expands them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_RULES_FILE } from '../../scripts/generate/prometheus-rules';
import { TOOL_BUILD_TIMEOUT_MS, goTool, run } from './support/tools';
import { DEFAULT_RULES } from '../../libs/alerting/src/rule-definitions';

const TESTS_DIR = path.join(__dirname, 'promtool');
let promtool: string;

beforeAll(() => {
  promtool = goTool('promtool');
}, TOOL_BUILD_TIMEOUT_MS);

describe('promtool', () => {
  it('check rules accepts the generated rule file', () => {
    const r = run(promtool, ['check', 'rules', PROMETHEUS_RULES_FILE]);
    expect(r.stdout + r.stderr).toContain(`SUCCESS: ${DEFAULT_RULES.length} rules found`);
    expect(r.status).toBe(0);
  });

  it('test rules: every rule fires on its input series and not on the others', () => {
    const files = fs.readdirSync(TESTS_DIR).filter((f) => f.endsWith('.test.yaml'));
    const text = files.map((f) => fs.readFileSync(path.join(TESTS_DIR, f), 'utf8')).join('\n');
    // Each default rule has at least one expectation of firing.
    for (const rule of DEFAULT_RULES)
      expect(text, rule.name).toMatch(
        new RegExp(`alertname: ${rule.name}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
      );
    const r = run(promtool, ['test', 'rules', ...files], TESTS_DIR);
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('test rules fails when an expectation is wrong (the unit tests can fail)', () => {
    const wrong = fs
      .readFileSync(path.join(TESTS_DIR, 'sluice-alerts.test.yaml'), 'utf8')
      .replace('../../sluice/files/prometheus-rules.yaml', PROMETHEUS_RULES_FILE)
      .replace("summary: 'Query orders is 400 s behind'", "summary: 'Query orders is 401 s behind'");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-promtool-'));
    fs.writeFileSync(path.join(dir, 'wrong.test.yaml'), wrong);
    const r = run(promtool, ['test', 'rules', 'wrong.test.yaml'], dir);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('401 s behind');
  });
});
