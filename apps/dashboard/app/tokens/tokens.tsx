'use client';
// Tokens (admins): create one (its secret is shown once), revoke one.
import { useState } from 'react';
import useSWR from 'swr';
import { ConfirmButton } from '@/components/confirm-button';
import { DataTable } from '@/components/data-table';
import { ShownOnce } from '@/components/shown-once';
import { Empty, ErrorState, Loading } from '@/components/states';
import { api, ApiCallError, fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';

interface Token {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function Tokens() {
  const tokens = useSWR<Token[]>('/api/cp/tokens', fetcher);
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <form
        className="panel actions"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            const t = await api<{ token: string }>('/api/cp/tokens', {
              method: 'POST',
              json: { name, role },
            });
            setSecret(t.token);
            setName('');
            void tokens.mutate();
          } catch (err) {
            setError(err instanceof ApiCallError ? err.message : String(err));
          }
        }}
      >
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option>viewer</option>
            <option>operator</option>
            <option>admin</option>
          </select>
        </label>
        <button type="submit" className="primary">
          Create token
        </button>
        {error && (
          <span role="alert" style={{ color: 'var(--danger)' }}>
            {error}
          </span>
        )}
      </form>
      {secret && <ShownOnce label="New token (shown once, copy it now)" value={secret} testId="new-token" />}
      {tokens.error ? (
        <ErrorState error={tokens.error} what="tokens" />
      ) : !tokens.data ? (
        <Loading what="tokens" />
      ) : tokens.data.length === 0 ? (
        <Empty>No tokens.</Empty>
      ) : (
        <DataTable
          rows={tokens.data}
          rowKey={(t) => t.id}
          rowAttributes={(t) => ({ 'data-token': t.name, 'data-revoked': String(t.revokedAt !== null) })}
          testId="tokens"
          columns={[
            { header: 'Name', cell: (t) => t.name },
            { header: 'Role', cell: (t) => t.role },
            { header: 'Prefix', cell: (t) => <code>{t.prefix}</code> },
            { header: 'Created', cell: (t) => when(t.createdAt) },
            { header: 'Last used', cell: (t) => when(t.lastUsedAt) },
            { header: 'Revoked', cell: (t) => when(t.revokedAt), testId: 'revoked' },
            {
              header: 'Actions',
              hiddenHeader: true,
              cell: (t) =>
                !t.revokedAt && (
                  <ConfirmButton
                    label="Revoke"
                    title={`Revoke token ${t.name}`}
                    description="Requests with this token fail from now on."
                    confirmLabel="Revoke"
                    danger
                    onConfirm={async () => {
                      await api(`/api/cp/tokens/${t.id}`, { method: 'DELETE' });
                      void tokens.mutate();
                    }}
                  />
                ),
            },
          ]}
        />
      )}
    </>
  );
}
