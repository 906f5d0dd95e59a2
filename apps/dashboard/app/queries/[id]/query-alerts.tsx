'use client';
import Link from 'next/link';
import useSWR from 'swr';
import { Loaded } from '@/components/states';
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
      <Loaded result={alerts} what="alerts" empty="No alerts for this query.">
        {(list) => <AlertTable alerts={list} showState showQuery={false} />}
      </Loaded>
      <p>
        <Link href="/alerts">All alerts, silences and receivers</Link>
      </p>
    </section>
  );
}
