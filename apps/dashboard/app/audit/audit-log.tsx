'use client';
import { useState } from 'react';
import useSWR from 'swr';
import { Loaded } from '@/components/states';
import { fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';

interface Entry {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  createdAt: string;
}

export function AuditLog() {
  const [target, setTarget] = useState('');
  const q = target.trim() ? `&target=${encodeURIComponent(target.trim())}` : '';
  const entries = useSWR<Entry[]>(`/api/cp/audit?limit=200${q}`, fetcher, { refreshInterval: 10_000 });
  return (
    <>
      <div className="toolbar">
        <label>
          Target
          <input
            type="search"
            value={target}
            maxLength={300}
            onChange={(e) => setTarget(e.target.value)}
            placeholder="e.g. query/<id>"
          />
        </label>
      </div>
      <Loaded
        result={entries}
        what="the audit log"
        empty={<>No audit entries{target ? ' for this target' : ''}.</>}
      >
        {(list) => (
          <table data-testid="audit">
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.createdAt)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td>{e.target ?? '—'}</td>
                  <td>
                    <code style={{ fontSize: 11 }}>
                      {e.before !== null && e.before !== undefined
                        ? `${JSON.stringify(e.before).slice(0, 120)} → `
                        : ''}
                      {e.after !== null && e.after !== undefined ? JSON.stringify(e.after).slice(0, 160) : ''}
                    </code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </>
  );
}
