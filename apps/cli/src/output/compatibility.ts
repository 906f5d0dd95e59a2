// The compatibility report of an upgrade (POST /versions, GET /versions/:v/compatibility) for
// people: the verdict first, then every change with its severity.
import type { CompatibilityReport } from '@sluice/contracts';
import { renderTable } from './table';

export function renderCompatibility(version: number, report: CompatibilityReport): string {
  const verdict = report.compatible
    ? 'compatible: it resumes from the checkpoint'
    : 'INCOMPATIBLE: it cannot resume from the checkpoint (strategy new-checkpoint starts over)';
  const head = `version ${version} against version ${report.against}: ${verdict}\n`;
  if (report.changes.length === 0) return `${head}no changes to the plan\n`;
  return (
    head +
    renderTable(report.changes, [
      { header: 'severity', value: (c) => c.severity },
      { header: 'kind', value: (c) => c.kind },
      { header: 'path', value: (c) => c.path },
      { header: 'change', value: (c) => c.message },
    ])
  );
}
