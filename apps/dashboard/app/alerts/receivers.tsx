'use client';
// Notification receivers: add one (admins; its signing secret is shown once), send a test
// notification through the real delivery path (operators), and each one's delivery log.
import { useState } from 'react';
import useSWR from 'swr';
import { ConfirmButton } from '@/components/confirm-button';
import { DataTable } from '@/components/data-table';
import { ShownOnceForm } from '@/components/shown-once';
import { Loaded } from '@/components/states';
import { api, ApiCallError, fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';
import { roleAtLeast, type Role } from '@/lib/session-codec';
import type { Delivery, Receiver } from './types';

const message = (e: unknown) => (e instanceof ApiCallError ? e.message : String(e));

export function Receivers({ role }: { role: Role }) {
  const receivers = useSWR<Receiver[]>('/api/cp/receivers', fetcher, { refreshInterval: 10_000 });
  const [open, setOpen] = useState<string | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <section aria-labelledby="receivers-h" data-testid="receivers">
      <h2 id="receivers-h">Receivers</h2>
      {roleAtLeast(role, 'admin') && (
        <NewReceiver
          onCreated={(name) => {
            setOpen(name);
            void receivers.mutate();
          }}
        />
      )}
      {status && (
        <p role="status" style={{ color: status.ok ? 'var(--ok)' : 'var(--danger)' }}>
          {status.text}
        </p>
      )}
      <Loaded
        result={receivers}
        what="receivers"
        empty="No receivers: alerts are only shown here and in /metrics."
      >
        {(list) =>
          list.map((r) => (
            <div key={r.id} className="panel" data-receiver={r.name}>
              <strong>{r.name}</strong> <span className="tag">{r.kind}</span> <code>{r.url}</code>{' '}
              {!r.enabled && <span className="tag">disabled</span>}{' '}
              <button
                type="button"
                onClick={() => setOpen(open === r.name ? null : r.name)}
                aria-expanded={open === r.name}
              >
                {open === r.name ? 'Hide deliveries' : 'Delivery log'}
              </button>{' '}
              {roleAtLeast(role, 'operator') && (
                <button
                  type="button"
                  onClick={async () => {
                    setStatus(null);
                    try {
                      await api(`/api/cp/receivers/${encodeURIComponent(r.name)}/test`, { method: 'POST' });
                      setStatus({ ok: true, text: `test notification to ${r.name} queued` });
                      setOpen(r.name);
                    } catch (e) {
                      setStatus({ ok: false, text: `test notification to ${r.name} failed: ${message(e)}` });
                    }
                  }}
                >
                  Send test
                </button>
              )}{' '}
              {roleAtLeast(role, 'admin') && (
                <ConfirmButton
                  label="Delete"
                  title={`Delete receiver ${r.name}`}
                  description="It is sent nothing more; its delivery log is deleted with it."
                  confirmLabel="Delete"
                  danger
                  onConfirm={async () => {
                    await api(`/api/cp/receivers/${encodeURIComponent(r.name)}`, { method: 'DELETE' });
                    void receivers.mutate();
                  }}
                />
              )}
              {open === r.name && <Deliveries name={r.name} />}
            </div>
          ))
        }
      </Loaded>
    </section>
  );
}

function NewReceiver({ onCreated }: { onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState('webhook');
  const [url, setUrl] = useState('');
  return (
    <ShownOnceForm
      ariaLabel="New receiver"
      submitLabel="Add receiver"
      secretLabel="Signing secret (shown once; the receiver checks X-Sluice-Signature with it)"
      secretTestId="receiver-secret"
      create={async () => {
        const r = await api<{ name: string; signingSecret: string }>('/api/cp/receivers', {
          method: 'POST',
          json: { name, kind, url },
        });
        setName('');
        setUrl('');
        onCreated(r.name);
        return r.signingSecret;
      }}
    >
      <label>
        Receiver name
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={63} />
      </label>
      <label>
        Kind
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="webhook">webhook</option>
          <option value="slack">slack</option>
        </select>
      </label>
      <label>
        URL
        <input
          type="url"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          required
          maxLength={2048}
          style={{ width: '24rem' }}
        />
      </label>
    </ShownOnceForm>
  );
}

function Deliveries({ name }: { name: string }) {
  const d = useSWR<Delivery[]>(`/api/cp/receivers/${encodeURIComponent(name)}/deliveries?limit=50`, fetcher, {
    refreshInterval: 2000,
  });
  return (
    <Loaded result={d} what="deliveries" empty="Nothing delivered yet.">
      {(list) => (
        <DataTable
          rows={list}
          rowKey={(x) => x.id}
          rowAttributes={(x) => ({ 'data-status': x.status, 'data-test': String(x.test) })}
          testId="deliveries"
          columns={[
            { header: 'Created', cell: (x) => when(x.createdAt) },
            { header: 'Status', cell: (x) => `${x.status}${x.test ? ' (test)' : ''}` },
            { header: 'Attempts', numeric: true, cell: (x) => x.attempts },
            { header: 'HTTP', cell: (x) => x.httpStatus ?? '—', testId: 'http-status' },
            { header: 'Error', cell: (x) => x.lastError ?? '' },
            { header: 'Group', cell: (x) => <code>{x.groupKey}</code> },
          ]}
        />
      )}
    </Loaded>
  );
}
