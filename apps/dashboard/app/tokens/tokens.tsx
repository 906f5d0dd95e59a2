'use client';
// Tokens (admins): create one (its secret is shown once), revoke one. The bootstrap token (set by
// the control plane's SLUICE_BOOTSTRAP_TOKEN) is not offered for revocation here: see below.
import { useState } from 'react';
import useSWR from 'swr';
import { ConfirmButton } from '@/components/confirm-button';
import { DataTable } from '@/components/data-table';
import { ShownOnceForm } from '@/components/shown-once';
import { Loaded } from '@/components/states';
import { api, fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';

interface Token {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** How the token was made: `api` (this page, the CLI) or `bootstrap` (the environment). */
  origin?: string;
}

/**
 * Why the bootstrap token has no Revoke button. The API would revoke it, and it then stays
 * revoked across restarts: whoever logged in with it (often the only admin of a fresh install) is
 * locked out until an operator sets a new SLUICE_BOOTSTRAP_TOKEN. Changing that variable and
 * restarting is the way to replace it, and the restart revokes the old value's token.
 */
const BOOTSTRAP_NOTE =
  'Set by SLUICE_BOOTSTRAP_TOKEN: to replace it, change that variable and restart the control plane, which revokes this one.';

export function Tokens() {
  const tokens = useSWR<Token[]>('/api/cp/tokens', fetcher);
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  return (
    <>
      <ShownOnceForm
        submitLabel="Create token"
        secretLabel="New token (shown once, copy it now)"
        secretTestId="new-token"
        create={async () => {
          const t = await api<{ token: string }>('/api/cp/tokens', {
            method: 'POST',
            json: { name, role },
          });
          setName('');
          void tokens.mutate();
          return t.token;
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
      </ShownOnceForm>
      <Loaded result={tokens} what="tokens" empty="No tokens.">
        {(list) => (
          <DataTable
            rows={list}
            rowKey={(t) => t.id}
            rowAttributes={(t) => ({
              'data-token': t.name,
              'data-origin': t.origin ?? 'api',
              'data-revoked': String(t.revokedAt !== null),
            })}
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
                  t.revokedAt ? null : t.origin === 'bootstrap' ? (
                    <span className="muted" data-testid="bootstrap-note">
                      {BOOTSTRAP_NOTE}
                    </span>
                  ) : (
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
      </Loaded>
    </>
  );
}
