'use client';
import Link from 'next/link';
import useSWR from 'swr';
import { ErrorState, Loading } from '@/components/states';
import { fetcher } from '@/lib/client-api';
import { AlertTable } from '../../alerts/alert-table';
import type { Alert } from '../../alerts/types';

/** This query's alerts, newest state first; silencing and acknowledging live on the alerts page. */
export function QueryAlerts({ name }: { name: string }) {
  const alerts = useSWR<Alert[]>(`/api/cp/alerts?query=${encodeURIComponent(name)}&limit=100`, fetcher, {
    refreshInterval: 5000,
  });
  return (
    <section aria-labelledby="alerts-h" data-testid="query-alerts">
      <h2 id="alerts-h">Alerts</h2>
      {alerts.error ? (
        <ErrorState error={alerts.error} what="alerts" />
      ) : !alerts.data ? (
        <Loading what="alerts" />
      ) : alerts.data.length === 0 ? (
        <p className="muted">No alerts for this query.</p>
      ) : (
        <AlertTable alerts={alerts.data} showState showQuery={false} />
      )}
      <p>
        <Link href="/alerts">All alerts, silences and receivers</Link>
      </p>
    </section>
  );
}
