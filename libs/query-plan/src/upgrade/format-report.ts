// Human rendering of an upgrade report, one line per change (the CLI and logs use it).
import type { UpgradeReport } from './upgrade-types';

export function formatUpgradeReport(report: UpgradeReport): string {
  const lines = report.changes.map((c) => {
    const where = [c.operator, c.path].filter((x) => x !== undefined).join(' ');
    return `${c.severity.padEnd(12)} ${c.kind}${where ? ` (${where})` : ''}: ${c.message}`;
  });
  const counts = (['incompatible', 'caveat', 'allowed'] as const)
    .map((s) => `${report.changes.filter((c) => c.severity === s).length} ${s}`)
    .join(', ');
  const verdict = report.compatible
    ? `compatible: the new version can resume from the old checkpoint (${counts})`
    : `incompatible: the new version needs a new checkpoint (${counts})`;
  return [...(report.changes.length === 0 ? ['no changes'] : lines), verdict].join('\n');
}
