'use client';
// One list of alerts, used by the alerts page (one per state, with actions) and by a query's page
// (every state, for that query).
import Link from 'next/link';
import type { ReactNode } from 'react';
import { DataTable } from '@/components/data-table';
import { num, when } from '@/lib/format';
import type { Alert } from './types';

/** Silenced and acknowledged, in words. */
export function muted(a: Alert): string {
  return [
    a.silencedBy.length > 0 ? 'silenced' : '',
    a.acknowledged ? `acknowledged by ${a.acknowledged.by}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

export function AlertTable({
  alerts,
  showState = false,
  showQuery = true,
  actions,
}: {
  alerts: readonly Alert[];
  showState?: boolean;
  showQuery?: boolean;
  /** The actions cell of a row; no actions column when absent. */
  actions?: (a: Alert) => ReactNode;
}) {
  return (
    <DataTable
      rows={alerts}
      rowKey={(a) => a.id}
      rowAttributes={(a) => ({ 'data-rule': a.rule, 'data-query': a.query, 'data-state': a.state })}
      columns={[
        showState && { header: 'State', cell: (a) => a.state },
        { header: 'Rule', cell: (a) => a.rule },
        showQuery && {
          header: 'Query',
          cell: (a) => <Link href={`/queries/${a.queryId}`}>{a.query}</Link>,
        },
        { header: 'Severity', cell: (a) => a.labels.severity ?? '—' },
        { header: 'Value', numeric: true, cell: (a) => num(a.value) },
        { header: 'Since', cell: (a) => when(a.firedAt ?? a.activeAt ?? a.resolvedAt) },
        { header: 'Summary', cell: (a) => a.annotations.summary ?? '' },
        { header: 'Muted', cell: muted, testId: 'muted' },
        actions && { header: 'Actions', hiddenHeader: true, cell: actions },
      ]}
    />
  );
}
