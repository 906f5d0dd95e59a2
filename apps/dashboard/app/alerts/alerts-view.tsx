'use client';
// Alerts by state (pending, firing, resolved) with silence and acknowledge, the silences (create
// with matchers and a duration, expire), and the receivers with their delivery log.
import { useState } from 'react';
import useSWR from 'swr';
import { ConfirmButton } from '@/components/confirm-button';
import { DataTable } from '@/components/data-table';
import { Loaded } from '@/components/states';
import { api, fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';
import { roleAtLeast, type Role } from '@/lib/session-codec';
import { AlertTable } from './alert-table';
import { Receivers } from './receivers';
import { SilenceForm } from './silence-form';
import type { Alert, Silence } from './types';

const STATES = ['firing', 'pending', 'resolved'] as const;

export function AlertsView({ role }: { role: Role }) {
  const alerts = useSWR<Alert[]>('/api/cp/alerts?limit=500', fetcher, { refreshInterval: 3000 });
  const silences = useSWR<Silence[]>('/api/cp/silences', fetcher, { refreshInterval: 5000 });
  const [silenceFor, setSilenceFor] = useState<Alert | null>(null);
  const operator = roleAtLeast(role, 'operator');
  const actions = (a: Alert) =>
    a.state === 'resolved' ? null : (
      <>
        <button type="button" onClick={() => setSilenceFor(a)}>
          Silence…
        </button>
        {!a.acknowledged && (
          <ConfirmButton
            label="Acknowledge"
            title={`Acknowledge ${a.rule} on ${a.query}`}
            description="Marks the alert as seen; notifications continue until it resolves or is silenced."
            confirmLabel="Acknowledge"
            onConfirm={async () => {
              await api(`/api/cp/alerts/${a.id}/ack`, { method: 'POST', json: { comment: '' } });
              void alerts.mutate();
            }}
          />
        )}
      </>
    );
  return (
    <>
      <Loaded result={alerts} what="alerts">
        {(all) =>
          STATES.map((state) => {
            const list = all.filter((a) => a.state === state);
            return (
              <section key={state} aria-labelledby={`alerts-${state}`} data-testid={`alerts-${state}`}>
                <h2 id={`alerts-${state}`}>
                  {state[0]!.toUpperCase() + state.slice(1)} ({list.length})
                </h2>
                {list.length === 0 ? (
                  <p className="muted">No {state} alerts.</p>
                ) : (
                  <AlertTable alerts={list} actions={operator ? actions : undefined} />
                )}
              </section>
            );
          })
        }
      </Loaded>
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
        <Loaded result={silences} what="silences" empty="No silences.">
          {(list) => (
            <DataTable
              rows={list}
              rowKey={(s) => s.id}
              testId="silences"
              columns={[
                { header: 'State', cell: (s) => s.state },
                {
                  header: 'Matchers',
                  cell: (s) => (
                    <code>
                      {s.matchers
                        .map((m) => `${m.name}${m.isEqual ? '' : '!'}${m.isRegex ? '=~' : '='}"${m.value}"`)
                        .join(', ')}
                    </code>
                  ),
                },
                { header: 'Until', cell: (s) => when(s.endsAt) },
                { header: 'By', cell: (s) => s.createdBy },
                { header: 'Comment', cell: (s) => s.comment },
                operator && {
                  header: 'Actions',
                  hiddenHeader: true,
                  cell: (s) =>
                    s.state !== 'expired' && (
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
                    ),
                },
              ]}
            />
          )}
        </Loaded>
      </section>
      <Receivers role={role} />
    </>
  );
}
