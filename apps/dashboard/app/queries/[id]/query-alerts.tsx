'use client';
import Link from 'next/link';
import useSWR from 'swr';
import { ErrorState, Loading } from '@/components/states';
import { fetcher } from '@/lib/client-api';
import { num, when } from '@/lib/format';
import type { Alert } from '../../alerts/types';

/** This query's alerts, newest state first; silencing and acknowledging live on the alerts page. */
export function QueryAlerts({ name }: { name: string }) {
  const alerts = useSWR<Alert[]>(`/api/cp/alerts?query=${encodeURIComponent(name)}&limit=100`, fetcher, {
    refreshInterval: 5000,
  });
  return (
    <section aria-labelledby="alerts-h">
      <h2 id="alerts-h">Alerts</h2>
      {alerts.error ? (
        <ErrorState error={alerts.error} what="alerts" />
      ) : !alerts.data ? (
        <Loading what="alerts" />
      ) : alerts.data.length === 0 ? (
        <p className="muted">No alerts for this query.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">State</th>
              <th scope="col">Rule</th>
              <th scope="col" className="num">
                Value
              </th>
              <th scope="col">Since</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {alerts.data.map((a) => (
              <tr key={a.id}>
                <td>
                  {a.state}
                  {a.silencedBy.length > 0 ? ' (silenced)' : ''}
                </td>
                <td>{a.rule}</td>
                <td className="num">{num(a.value)}</td>
                <td>{when(a.firedAt ?? a.activeAt ?? a.resolvedAt)}</td>
                <td>{a.annotations.summary ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <Link href="/alerts">All alerts, silences and receivers</Link>
      </p>
    </section>
  );
}
