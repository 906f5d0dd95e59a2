'use client';
// One query: state, live charts, and everything that happened to it. Live parts come from the
// query's SSE stream (progress, status, operation), proxied by /api/cp; the rest is polled by SWR.
import Link from 'next/link';
import { useEffect, useState } from 'react';
import useSWR from 'swr';
import { ErrorState, Loading } from '@/components/states';
import { ApiCallError, fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';
import type { Role } from '@/lib/session-codec';
import { ActionsPanel } from './actions-panel';
import { LiveCharts } from './live-charts';
import { OperationsPanel } from './operations-panel';
import { QueryAlerts } from './query-alerts';
import { ScalingPanel } from './scaling-panel';
import type { Operation, Progress, QueryDetailData } from './types';
import { VersionsPanel } from './versions-panel';

/** Progress events kept for the charts (a few minutes at one batch per second per instance). */
const MAX_EVENTS = 600;

export function QueryDetail({ id, role }: { id: string; role: Role }) {
  const base = `/api/cp/queries/${id}`;
  const detail = useSWR<QueryDetailData>(base, fetcher, { refreshInterval: 5000 });
  const ops = useSWR<Operation[]>(`${base}/operations?limit=20`, fetcher, { refreshInterval: 5000 });
  const history = useSWR<Progress[]>(`${base}/progress?limit=300`, fetcher, { revalidateOnFocus: false });
  const [events, setEvents] = useState<Progress[]>([]);

  useEffect(() => {
    if (history.data) setEvents(history.data.slice().reverse());
  }, [history.data]);

  const { mutate: refreshDetail } = detail;
  const { mutate: refreshOps } = ops;
  useEffect(() => {
    const es = new EventSource(`${base}/events`);
    es.addEventListener('progress', (e: MessageEvent<string>) => {
      const p = JSON.parse(e.data) as Progress;
      setEvents((prev) => [...prev.slice(-(MAX_EVENTS - 1)), p]);
    });
    es.addEventListener('status', () => void refreshDetail());
    es.addEventListener('operation', () => {
      void refreshOps();
      void refreshDetail();
    });
    return () => es.close();
  }, [base, refreshDetail, refreshOps]);

  if (detail.error) {
    if (detail.error instanceof ApiCallError && detail.error.status === 404)
      return (
        <div className="state error" role="alert">
          No such query. <Link href="/queries">All queries</Link>
        </div>
      );
    return <ErrorState error={detail.error} what="the query" />;
  }
  if (!detail.data) return <Loading what="the query" />;
  const q = detail.data;
  const last = events.at(-1) ?? q.lastProgress;

  return (
    <>
      <p>
        <Link href="/queries">← Queries</Link>
      </p>
      <h1>
        {q.name} <span className={`phase phase-${q.phase}`}>{q.phase}</span>
      </h1>
      <div className="panel">
        <dl className="kv">
          <dt>Id</dt>
          <dd>
            <code>{q.id}</code>
          </dd>
          <dt>Desired</dt>
          <dd>
            {q.desired.state}, version {q.desired.version}, {q.desired.instances} instance(s), rate limit{' '}
            {q.desired.rateLimit ?? 'none'}
          </dd>
          <dt>Observed</dt>
          <dd data-testid="observed">
            {q.observed.runningInstances} running, generation {q.observedGeneration}/{q.generation}, last good
            version {q.observed.lastGoodVersion ?? '—'}
          </dd>
          <dt>Last progress</dt>
          <dd>{when(q.lastProgressAt)}</dd>
        </dl>
      </div>
      <ActionsPanel
        query={q}
        role={role}
        onChanged={() => void Promise.all([refreshDetail(), refreshOps()])}
      />
      <LiveCharts id={id} events={events} version={q.desired.version} />
      <div className="grid2">
        <section aria-labelledby="conditions-h">
          <h2 id="conditions-h">Conditions</h2>
          {q.conditions.length === 0 ? (
            <p className="muted">No conditions reported yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Message</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                {q.conditions.map((c) => (
                  <tr key={c.type}>
                    <td>{c.type}</td>
                    <td>{c.status}</td>
                    <td>{c.reason}</td>
                    <td>{c.message}</td>
                    <td>{when(c.lastTransitionTime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="instances-h">
          <h2 id="instances-h">Instances</h2>
          {q.instances.length === 0 ? (
            <p className="muted">No instances.</p>
          ) : (
            <table data-testid="instances-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Runtime</th>
                  <th scope="col" className="num">
                    Restarts
                  </th>
                  <th scope="col">Started</th>
                  <th scope="col">Last seen</th>
                </tr>
              </thead>
              <tbody>
                {q.instances.map((i) => (
                  <tr key={i.name} data-status={i.status}>
                    <td>{i.name}</td>
                    <td>{i.status}</td>
                    <td>
                      {i.runtime}
                      {i.ref ? ` (${i.ref})` : ''}
                    </td>
                    <td className="num">{i.restarts}</td>
                    <td>{when(i.startedAt)}</td>
                    <td>{when(i.lastSeenAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <section aria-labelledby="last-progress-h">
        <h2 id="last-progress-h">Last progress event</h2>
        {last ? (
          <pre className="json" tabIndex={0} aria-label="last progress event as JSON">
            {JSON.stringify(last, null, 2)}
          </pre>
        ) : (
          <p className="muted">No progress yet.</p>
        )}
      </section>
      <OperationsPanel ops={ops} />
      <ScalingPanel id={id} />
      <VersionsPanel id={id} desired={q.desired.version} />
      <QueryAlerts name={q.name} />
    </>
  );
}
