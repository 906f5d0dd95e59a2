// Counts of a schemathesis run, read from its NDJSON event report: requests sent (every recorded
// interaction), test cases, and failures (one per operation, check and kind of failure, as
// schemathesis itself deduplicates them), plus errors that stopped an operation's generation.
import fs from 'node:fs';
import path from 'node:path';

export interface RunSummary {
  requests: number;
  cases: number;
  operations: number;
  failures: string[];
  errors: string[];
}

interface CheckResult {
  name: string;
  status: string;
  failure_info?: { failure?: { code?: string; title?: string; message?: string } };
}

interface ScenarioFinished {
  recorder: {
    label: string;
    cases?: Record<string, unknown>;
    interactions?: Record<string, unknown>;
    checks?: Record<string, CheckResult[]>;
  };
}

interface NonFatalError {
  label?: string;
  value?: { type?: string; message?: string };
}

export function summarise(reportDir: string): RunSummary {
  const file = fs.readdirSync(reportDir).find((f) => f.endsWith('.ndjson'));
  const summary: RunSummary = { requests: 0, cases: 0, operations: 0, failures: [], errors: [] };
  if (!file) return summary;
  const labels = new Set<string>();
  const failures = new Set<string>();
  for (const line of fs.readFileSync(path.join(reportDir, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as { ScenarioFinished?: ScenarioFinished; NonFatalError?: NonFatalError };
    if (event.NonFatalError) {
      const e = event.NonFatalError;
      summary.errors.push(`${e.label ?? '(run)'}: ${e.value?.type ?? 'error'}: ${e.value?.message ?? ''}`);
    }
    const recorder = event.ScenarioFinished?.recorder;
    if (!recorder) continue;
    labels.add(recorder.label);
    summary.requests += Object.keys(recorder.interactions ?? {}).length;
    summary.cases += Object.keys(recorder.cases ?? {}).length;
    for (const results of Object.values(recorder.checks ?? {})) {
      for (const r of results) {
        if (r.status !== 'failure') continue;
        const f = r.failure_info?.failure;
        const detail = (f?.message ?? '').split('\n')[0];
        failures.add(
          `${recorder.label}: ${f?.code ?? r.name} ${f?.title ?? ''}${detail ? ` (${detail})` : ''}`,
        );
      }
    }
  }
  summary.operations = labels.size;
  summary.failures = [...failures].sort();
  return summary;
}
