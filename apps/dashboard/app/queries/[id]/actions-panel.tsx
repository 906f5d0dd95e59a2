'use client';
// Scale, rate limit, deploy a version, stop, start, delete: each confirmed. Controls a role may not
// use are not rendered at all (the API would answer 403 anyway).
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { api } from '@/lib/client-api';
import { roleAtLeast, type Role } from '@/lib/session-codec';
import { CpuLimitControl } from './cpu-limit-control';
import type { QueryDetailData } from './types';

const MAX_INSTANCES_INPUT = 256;
const MAX_RATE_LIMIT = 2_147_483_647;

export function ActionsPanel({
  query: q,
  role,
  onChanged,
}: {
  query: QueryDetailData;
  role: Role;
  onChanged: () => void;
}) {
  const router = useRouter();
  const [instances, setInstances] = useState(String(q.desired.instances));
  const [rate, setRate] = useState(q.desired.rateLimit === null ? '' : String(q.desired.rateLimit));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  if (!roleAtLeast(role, 'operator')) return null;

  const base = `/api/cp/queries/${q.id}`;
  // Every action runs from a confirmation dialog: a failure is rethrown so the dialog stays open
  // with the API's message (a refused Delete used to close it and leave the page where it was,
  // its reason only in the status line below).
  const run = async (what: string, fn: () => Promise<unknown>) => {
    setMessage(null);
    await fn();
    setMessage({ ok: true, text: `${what}: requested` });
    onChanged();
  };
  const n = Number(instances);
  const instancesValid = Number.isInteger(n) && n >= 1 && n <= MAX_INSTANCES_INPUT;
  const r = rate.trim() === '' ? null : Number(rate);
  const rateValid = r === null || (Number.isInteger(r) && r >= 1 && r <= MAX_RATE_LIMIT);
  const stopped = q.desired.state === 'STOPPED';
  // The API's choice (good-versions.ts): the last good version, or the one before it when the
  // last good one is what runs now (right after a successful upgrade).
  const rollbackTo =
    q.observed.lastGoodVersion !== null && q.observed.lastGoodVersion !== q.desired.version
      ? q.observed.lastGoodVersion
      : q.observed.previousGoodVersion;

  return (
    <section aria-labelledby="actions-h" className="panel" data-testid="actions">
      <h2 id="actions-h" style={{ marginTop: 0 }}>
        Actions
      </h2>
      <div className="actions">
        <label>
          Instances
          <input
            type="number"
            min={1}
            max={MAX_INSTANCES_INPUT}
            value={instances}
            onChange={(e) => setInstances(e.target.value)}
            style={{ width: '5rem' }}
          />
        </label>
        <ConfirmButton
          label="Scale"
          title={`Scale ${q.name}`}
          description={`Run ${instances} instance(s) of ${q.name} (now ${q.desired.instances}).`}
          confirmLabel="Scale"
          disabled={!instancesValid}
          onConfirm={() =>
            run('scale', () => api(`${base}/scale`, { method: 'POST', json: { instances: n } }))
          }
        />
        <label>
          Rate limit (offsets per trigger; empty: none)
          <input
            type="number"
            min={1}
            max={MAX_RATE_LIMIT}
            value={rate}
            onChange={(e) => setRate(e.target.value)}
            style={{ width: '8rem' }}
          />
        </label>
        <ConfirmButton
          label="Set rate limit"
          title={`Rate limit of ${q.name}`}
          description={
            r === null
              ? `Remove the rate limit of ${q.name}.`
              : `Limit ${q.name} to ${r} offsets per trigger (now ${q.desired.rateLimit ?? 'none'}).`
          }
          confirmLabel="Apply"
          disabled={!rateValid}
          onConfirm={() =>
            run('rate limit', () =>
              api(`${base}/rate-limit`, { method: 'POST', json: { maxOffsetsPerTrigger: r } }),
            )
          }
        />
        <CpuLimitControl id={q.id} name={q.name} run={run} />
        {stopped ? (
          <ConfirmButton
            label="Start"
            title={`Start ${q.name}`}
            description={`Start ${q.name} from its checkpoint.`}
            confirmLabel="Start"
            onConfirm={() => run('start', () => api(`${base}/start`, { method: 'POST' }))}
          />
        ) : (
          <ConfirmButton
            label="Stop"
            title={`Stop ${q.name}`}
            description={`Stop ${q.name}: its instances finish their batch and exit.`}
            confirmLabel="Stop"
            danger
            onConfirm={() => run('stop', () => api(`${base}/stop`, { method: 'POST' }))}
          />
        )}
        {rollbackTo !== null && rollbackTo !== q.desired.version && !stopped && (
          <ConfirmButton
            label="Roll back"
            title={`Roll back ${q.name}`}
            description={`Return ${q.name} to version ${rollbackTo}, its previous good version, on that version's checkpoint.`}
            confirmLabel="Roll back"
            danger
            onConfirm={() => run('rollback', () => api(`${base}/rollback`, { method: 'POST', json: {} }))}
          />
        )}
        <a className="button" href={`/deploy?query=${q.id}`}>
          New version…
        </a>
        {roleAtLeast(role, 'admin') && (
          <ConfirmButton
            label="Delete"
            title={`Delete ${q.name}`}
            description={`Delete ${q.name}: its instances drain, then the query and its versions are removed.`}
            confirmLabel="Delete"
            danger
            onConfirm={() =>
              run('delete', async () => {
                await api(base, { method: 'DELETE' });
                router.push('/queries');
              })
            }
          />
        )}
      </div>
      {message && (
        <p
          role="status"
          style={{ color: message.ok ? 'var(--ok)' : 'var(--danger)' }}
          data-testid="action-message"
        >
          {message.text}
        </p>
      )}
    </section>
  );
}
