'use client';
// Alerts by state (pending, firing, resolved), silences (create with matchers and a duration,
// expire), acknowledgements, and the receivers with their delivery log.
import Link from 'next/link';
import { useState } from 'react';
import useSWR from 'swr';
import { ConfirmButton } from '@/components/confirm-button';
import { Empty, ErrorState, Loading } from '@/components/states';
import { api, ApiCallError, fetcher } from '@/lib/client-api';
import { num, when } from '@/lib/format';
import { roleAtLeast, type Role } from '@/lib/session-codec';
import { SilenceForm } from './silence-form';
import type { Alert, Delivery, Receiver, Silence } from './types';

const STATES = ['firing', 'pending', 'resolved'] as const;

export function AlertsView({ role }: { role: Role }) {
  const alerts = useSWR<Alert[]>('/api/cp/alerts?limit=500', fetcher, { refreshInterval: 3000 });
  const silences = useSWR<Silence[]>('/api/cp/silences', fetcher, { refreshInterval: 5000 });
  const [silenceFor, setSilenceFor] = useState<Alert | null>(null);
  const operator = roleAtLeast(role, 'operator');
  return (
    <>
      {alerts.error ? (
        <ErrorState error={alerts.error} what="alerts" />
      ) : !alerts.data ? (
        <Loading what="alerts" />
      ) : (
        STATES.map((state) => {
          const list = alerts.data!.filter((a) => a.state === state);
          return (
            <section key={state} aria-labelledby={`alerts-${state}`} data-testid={`alerts-${state}`}>
              <h2 id={`alerts-${state}`}>
                {state[0]!.toUpperCase() + state.slice(1)} ({list.length})
              </h2>
              {list.length === 0 ? (
                <p className="muted">No {state} alerts.</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Rule</th>
                      <th scope="col">Query</th>
                      <th scope="col">Severity</th>
                      <th scope="col" className="num">
                        Value
                      </th>
                      <th scope="col">Since</th>
                      <th scope="col">Summary</th>
                      <th scope="col">Muted</th>
                      {operator && (
                        <th scope="col">
                          <span className="sr-only">Actions</span>
                        </th>
                      )}
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((a) => (
                      <tr key={a.id} data-rule={a.rule} data-query={a.query}>
                        <td>{a.rule}</td>
                        <td>
                          <Link href={`/queries/${a.queryId}`}>{a.query}</Link>
                        </td>
                        <td>{a.labels.severity ?? '—'}</td>
                        <td className="num">{num(a.value)}</td>
                        <td>{when(a.firedAt ?? a.activeAt ?? a.resolvedAt)}</td>
                        <td>{a.annotations.summary ?? ''}</td>
                        <td data-testid="muted">
                          {a.silencedBy.length > 0 ? 'silenced' : ''}
                          {a.acknowledged
                            ? `${a.silencedBy.length > 0 ? ', ' : ''}acknowledged by ${a.acknowledged.by}`
                            : ''}
                        </td>
                        {operator && (
                          <td className="actions">
                            {state !== 'resolved' && (
                              <button type="button" onClick={() => setSilenceFor(a)}>
                                Silence…
                              </button>
                            )}
                            {state !== 'resolved' && !a.acknowledged && (
                              <ConfirmButton
                                label="Acknowledge"
                                title={`Acknowledge ${a.rule} on ${a.query}`}
                                description="Marks the alert as seen; notifications continue until it resolves or is silenced."
                                confirmLabel="Acknowledge"
                                onConfirm={async () => {
                                  await api(`/api/cp/alerts/${a.id}/ack`, {
                                    method: 'POST',
                                    json: { comment: '' },
                                  });
                                  void alerts.mutate();
                                }}
                              />
                            )}
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          );
        })
      )}
      {operator && (
        <SilenceForm
          key={silenceFor?.id ?? 'new'}
          alert={silenceFor}
          onCreated={() => {
            setSilenceFor(null);
            void silences.mutate();
            void alerts.mutate();
          }}
        />
      )}
      <section aria-labelledby="silences-h">
        <h2 id="silences-h">Silences</h2>
        {silences.error ? (
          <ErrorState error={silences.error} what="silences" />
        ) : !silences.data ? (
          <Loading what="silences" />
        ) : silences.data.length === 0 ? (
          <Empty>No silences.</Empty>
        ) : (
          <table data-testid="silences">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Matchers</th>
                <th scope="col">Until</th>
                <th scope="col">By</th>
                <th scope="col">Comment</th>
                {operator && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {silences.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.state}</td>
                  <td>
                    <code>
                      {s.matchers
                        .map((m) => `${m.name}${m.isEqual ? '' : '!'}${m.isRegex ? '=~' : '='}"${m.value}"`)
                        .join(', ')}
                    </code>
                  </td>
                  <td>{when(s.endsAt)}</td>
                  <td>{s.createdBy}</td>
                  <td>{s.comment}</td>
                  {operator && (
                    <td>
                      {s.state !== 'expired' && (
                        <ConfirmButton
                          label="Expire"
                          title="Expire this silence"
                          description="Its alerts notify again from now on."
                          confirmLabel="Expire"
                          danger
                          onConfirm={async () => {
                            await api(`/api/cp/silences/${s.id}`, { method: 'DELETE' });
                            void silences.mutate();
                          }}
                        />
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <Receivers />
    </>
  );
}

function Receivers() {
  const receivers = useSWR<Receiver[]>('/api/cp/receivers', fetcher, { refreshInterval: 10_000 });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section aria-labelledby="receivers-h">
      <h2 id="receivers-h">Receivers</h2>
      {receivers.error ? (
        <ErrorState error={receivers.error} what="receivers" />
      ) : !receivers.data ? (
        <Loading what="receivers" />
      ) : receivers.data.length === 0 ? (
        <Empty>No receivers: alerts are only shown here and in /metrics.</Empty>
      ) : (
        receivers.data.map((r) => (
          <div key={r.id} className="panel">
            <strong>{r.name}</strong> <span className="tag">{r.kind}</span> <code>{r.url}</code>{' '}
            {!r.enabled && <span className="tag">disabled</span>}{' '}
            <button
              type="button"
              onClick={() => setOpen(open === r.name ? null : r.name)}
              aria-expanded={open === r.name}
            >
              {open === r.name ? 'Hide deliveries' : 'Delivery log'}
            </button>
            {open === r.name && <Deliveries name={r.name} />}
          </div>
        ))
      )}
    </section>
  );
}

function Deliveries({ name }: { name: string }) {
  const d = useSWR<Delivery[]>(`/api/cp/receivers/${encodeURIComponent(name)}/deliveries?limit=50`, fetcher, {
    refreshInterval: 5000,
  });
  if (d.error) return <ErrorState error={d.error} what="deliveries" />;
  if (!d.data) return <Loading what="deliveries" />;
  if (d.data.length === 0) return <p className="muted">Nothing delivered yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Created</th>
          <th scope="col">Status</th>
          <th scope="col" className="num">
            Attempts
          </th>
          <th scope="col">HTTP</th>
          <th scope="col">Error</th>
          <th scope="col">Group</th>
        </tr>
      </thead>
      <tbody>
        {d.data.map((x) => (
          <tr key={x.id}>
            <td>{when(x.createdAt)}</td>
            <td>
              {x.status}
              {x.test ? ' (test)' : ''}
            </td>
            <td className="num">{x.attempts}</td>
            <td>{x.httpStatus ?? '—'}</td>
            <td>{x.lastError ?? ''}</td>
            <td>
              <code>{x.groupKey}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function apiMessage(e: unknown): string {
  return e instanceof ApiCallError ? e.message : String(e);
}
