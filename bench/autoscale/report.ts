// Renders simulator results as text and Markdown, and rewrites the "Autoscaling" section of
// BENCHMARKS.md in place (other sections are left exactly as they are).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SimulationSummary } from '@sluice/scaling';
import type { Matrix, TargetReport } from './run-matrix';
import type { VariantResult } from './variants';

const COLUMNS: { title: string; value: (r: SimulationSummary) => string }[] = [
  { title: 'profile', value: (r) => r.profile },
  { title: 'policy', value: (r) => r.policy },
  { title: 'SLO violation s', value: (r) => String(r.sloViolationSeconds) },
  { title: 'instance·s', value: (r) => String(r.instanceSeconds) },
  { title: 'actions', value: (r) => String(r.scaleActions) },
  { title: 'oscillations', value: (r) => String(r.oscillations) },
  {
    title: 'actions to converge',
    value: (r) => (r.actionsToConverge === null ? '–' : String(r.actionsToConverge)),
  },
  { title: 'max lag s', value: (r) => r.maxLagSeconds.toFixed(1) },
  { title: 'max batch s', value: (r) => r.maxBatchDurationSeconds.toFixed(1) },
  { title: 'lost', value: (r) => String(r.lostRecords) },
];

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function resultsTable(results: readonly SimulationSummary[]): string {
  return markdownTable(
    COLUMNS.map((c) => c.title),
    results.map((r) => COLUMNS.map((c) => c.value(r))),
  );
}

export function pidTable(matrix: Matrix): string {
  const rows = matrix.withPid.map((on) => {
    const off = matrix.withoutPid.find((r) => r.profile === on.profile && r.policy === on.policy);
    const trigger = matrix.profiles.find((p) => p.name === on.profile)?.triggerSeconds ?? 1;
    return [
      on.profile,
      on.policy,
      `${on.maxBatchDurationSeconds.toFixed(1)} (${(on.maxBatchDurationSeconds / trigger).toFixed(1)}×)`,
      off
        ? `${off.maxBatchDurationSeconds.toFixed(1)} (${(off.maxBatchDurationSeconds / trigger).toFixed(1)}×)`
        : '–',
      String(on.sloViolationSeconds),
      off ? String(off.sloViolationSeconds) : '–',
      off ? off.maxLagSeconds.toFixed(1) : '–',
    ];
  });
  return markdownTable(
    [
      'profile',
      'policy',
      'max batch s, PID on (× trigger)',
      'max batch s, PID off',
      'SLO viol. s, on',
      'SLO viol. s, off',
      'max lag s, off',
    ],
    rows,
  );
}

export function targetsTable(report: TargetReport): string {
  const fmt = (n: number | null) => (n === null ? '0 / 0' : `${n.toFixed(2)}×`);
  const rows = report.profiles.map((v) => [
    v.profile,
    ...v.comparisons.map(
      (c) => `${fmt(c.violationRatio)} viol., ${c.instanceRatio.toFixed(2)}× inst.·s ${c.met ? '✅' : '❌'}`,
    ),
    v.met ? 'met' : 'missed',
  ]);
  const baselines = report.profiles[0]?.comparisons.map((c) => `sluice vs ${c.baseline}`) ?? [];
  return markdownTable(['profile', ...baselines, 'profile target'], rows);
}

export function targetSummary(report: TargetReport): string[] {
  const mark = (ok: boolean) => (ok ? '✅ met' : '❌ missed');
  return [
    `- Beat spark-ratio (≤ 0.5× violations) and ds2 (≤ 0.8×) at ≤ 1.05× instance·s on ≥ 3 of 4 profiles: ${report.profilesMet}/${report.profiles.length} — ${mark(report.beatsBaselines)}`,
    `- Actions to converge after the step (sluice, step profile): ${report.actionsToConverge ?? '–'} — ${mark(report.convergeMet)}`,
    `- Oscillations (sluice, all profiles): ${report.oscillations} — ${mark(report.oscillations === 0)}`,
    `- Lost records (every run, PID on and off): ${report.lostRecords} — ${mark(report.lostRecords === 0)}`,
    `- Max batch duration with PID backpressure: ${report.maxBatchOverTrigger.toFixed(2)}× the trigger — ${mark(report.pidMet)}`,
  ];
}

export function variantsTable(variants: readonly VariantResult[]): string {
  const rows = variants.map((v) => [
    `${v.name} (${v.describe})`,
    `${v.report.profilesMet}/${v.report.profiles.length}`,
    v.report.profiles
      .filter((p) => !p.met)
      .map((p) => p.profile)
      .join(', ') || '–',
    v.report.actionsToConverge === null ? '–' : String(v.report.actionsToConverge),
    String(v.report.oscillations),
    String(v.report.lostRecords),
    `${v.report.maxBatchOverTrigger.toFixed(2)}×`,
  ]);
  return markdownTable(
    [
      'variant of all four profiles',
      'profiles meeting both ratios',
      'missed',
      'actions to converge (step)',
      'oscillations',
      'lost',
      'max batch / trigger',
    ],
    rows,
  );
}

/** Plain-text table for the terminal. */
export function textTable(results: readonly SimulationSummary[]): string {
  const header = COLUMNS.map((c) => c.title);
  const rows = results.map((r) => COLUMNS.map((c) => c.value(r)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

const SECTION_TITLE = '## Autoscaling';

/** Replaces (or appends) a "## ..." section (default "## Autoscaling"); the body has no title. */
export function writeBenchmarksSection(file: string, body: string, title = SECTION_TITLE): void {
  const SECTION_TITLE = title;
  const original = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const lines = original.split('\n');
  const start = lines.findIndex((l) => l.trim() === SECTION_TITLE);
  const section = [SECTION_TITLE, '', body.trimEnd(), ''];
  let next: string[];
  if (start < 0) {
    next = [...trimTrailingBlank(lines), '', ...section];
  } else {
    const after = lines.findIndex((l, i) => i > start && /^## /.test(l));
    const tail = after < 0 ? [] : lines.slice(after);
    next = [...lines.slice(0, start), ...section, ...tail];
  }
  writeFileSync(file, `${trimTrailingBlank(next).join('\n')}\n`);
}

function trimTrailingBlank(lines: readonly string[]): string[] {
  const out = [...lines];
  while (out.length > 0 && out[out.length - 1]?.trim() === '') out.pop();
  return out;
}
