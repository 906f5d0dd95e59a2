'use client';
// Deploy: write a spec, preview its compiled plan, deploy. The API's 422 errors land in the editor
// at their line and column. With ?query=<id>: a new version of that query, its compatibility
// report against the running version, then its deploy, whose steps are shown as they complete.
import dynamic from 'next/dynamic';
import { useRouter } from 'next/navigation';
import { useCallback, useState } from 'react';
import useSWR from 'swr';
import { ConfirmButton } from '@/components/confirm-button';
import { ErrorState, Loading } from '@/components/states';
import { api, ApiCallError, fetcher, type SpecError } from '@/lib/client-api';
import { OperationCard } from '../queries/[id]/operations-panel';
import type { CompatibilityReport, Operation, Version } from '../queries/[id]/types';
import { CompatibilityReportView } from '../queries/[id]/versions-panel';

// CodeMirror is loaded on this page only, after the page itself has painted.
const SpecEditor = dynamic(() => import('@/components/spec-editor').then((m) => m.SpecEditor), {
  ssr: false,
  loading: () => <div className="editor state">Loading the editor…</div>,
});

const TEMPLATE = `# A query spec (see ARCHITECTURE.md, "Query spec").
name: my-query
sources:
  clicks:
    kafka: { topic: my.clicks, startingOffsets: earliest }
    format: json
    schema: { user_id: string, url: string, ts: timestamp }
sql: |
  SELECT user_id, count(*) AS clicks FROM clicks GROUP BY user_id
sink:
  kafka: { topic: my.clicks-per-user }
outputMode: update
trigger: { processingTime: 2 seconds }
`;

interface Plan {
  ok: boolean;
  plan?: unknown;
  planHash?: string;
  warnings?: string[];
  errors?: SpecError[];
}

interface VersionCreated {
  version: number;
  warnings: string[];
  compatibility: CompatibilityReport | null;
}

export function DeployForm({ queryId }: { queryId: string | null }) {
  const versions = useSWR<Version[]>(queryId ? `/api/cp/queries/${queryId}/versions` : null, fetcher, {
    revalidateOnFocus: false,
  });
  if (queryId && versions.error) return <ErrorState error={versions.error} what="the query's versions" />;
  if (queryId && !versions.data) return <Loading what="the query's versions" />;
  const initial = versions.data?.at(-1)?.specText ?? TEMPLATE;
  return <Form queryId={queryId} initial={initial} />;
}

function Form({ queryId, initial }: { queryId: string | null; initial: string }) {
  const router = useRouter();
  const [text, setText] = useState(initial);
  const [errors, setErrors] = useState<SpecError[]>([]);
  const [message, setMessage] = useState<string | null>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [created, setCreated] = useState<VersionCreated | null>(null);
  const [operationId, setOperationId] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onChange = useCallback((t: string) => setText(t), []);

  const fail = (e: unknown) => {
    if (e instanceof ApiCallError) {
      setErrors(e.errors);
      setMessage(
        e.errors.length > 0 ? `The API refused the spec (${e.status}):` : `${e.status}: ${e.message}`,
      );
    } else setMessage(String(e));
  };

  const preview = async () => {
    setBusy(true);
    try {
      const p = await api<Plan>('/api/plan', { method: 'POST', text });
      setPlan(p);
      setErrors(p.errors ?? []);
      setMessage(p.ok ? null : 'The spec does not compile:');
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  const deployNew = async () => {
    setBusy(true);
    setErrors([]);
    setMessage(null);
    try {
      const r = await api<{ id: string }>('/api/cp/queries', { method: 'POST', text });
      router.push(`/queries/${r.id}`);
    } catch (e) {
      fail(e);
      setBusy(false);
    }
  };

  const createVersion = async () => {
    setBusy(true);
    setErrors([]);
    setMessage(null);
    setCreated(null);
    try {
      setCreated(await api<VersionCreated>(`/api/cp/queries/${queryId}/versions`, { method: 'POST', text }));
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <SpecEditor initial={initial} errors={errors} onChange={onChange} label="Query spec (YAML)" />
      {message && (
        <div role="alert" className="panel" data-testid="spec-errors">
          <p style={{ margin: 0, color: 'var(--danger)' }}>{message}</p>
          {errors.length > 0 && (
            <ul className="errors">
              {errors.map((e, i) => (
                <li key={i} data-line={e.line} data-column={e.column}>
                  line {e.line}, column {e.column}: {e.path ? `${e.path}: ` : ''}
                  {e.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="actions" style={{ margin: '0.8rem 0' }}>
        <button type="button" onClick={preview} disabled={busy}>
          Preview plan
        </button>
        {queryId ? (
          <button type="button" className="primary" onClick={createVersion} disabled={busy}>
            Check as a new version
          </button>
        ) : (
          <button type="button" className="primary" onClick={deployNew} disabled={busy}>
            Deploy
          </button>
        )}
      </div>
      {created && queryId && (
        <section className="panel" aria-labelledby="new-version-h">
          <h2 id="new-version-h" style={{ marginTop: 0 }}>
            Version {created.version}
          </h2>
          {created.warnings.map((w) => (
            <p key={w} className="sev-caveat">
              {w}
            </p>
          ))}
          {created.compatibility ? (
            <CompatibilityReportView report={created.compatibility} />
          ) : (
            <p className="muted">No compatibility report (the running version no longer compiles).</p>
          )}
          <UpgradeControls
            queryId={queryId}
            version={created.version}
            compatible={created.compatibility?.compatible ?? null}
            onOperation={setOperationId}
            onError={fail}
          />
        </section>
      )}
      {operationId && queryId && <WatchOperation id={operationId} queryId={queryId} />}
      {plan?.ok && (
        <section aria-labelledby="plan-h">
          <h2 id="plan-h">
            Compiled plan {plan.planHash && <code className="tag">{plan.planHash.slice(0, 12)}</code>}
          </h2>
          {plan.warnings?.map((w) => (
            <p key={w} className="sev-caveat">
              {w}
            </p>
          ))}
          <pre className="json" tabIndex={0} data-testid="plan" aria-label="compiled plan as JSON">
            {JSON.stringify(plan.plan, null, 2)}
          </pre>
        </section>
      )}
    </>
  );
}

export function WatchOperation({ id, queryId }: { id: string; queryId: string }) {
  const [rollbackId, setRollbackId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const op = useSWR<Operation>(`/api/cp/operations/${id}`, fetcher, {
    refreshInterval: (d) => (d && ['SUCCEEDED', 'FAILED'].includes(d.state) ? 0 : 1000),
  });
  if (op.error) return <ErrorState error={op.error} what="the operation" />;
  if (!op.data) return <Loading what="the operation" />;
  const done = ['SUCCEEDED', 'FAILED'].includes(op.data.state);
  return (
    <section aria-labelledby="watch-h">
      <h2 id="watch-h">Operation</h2>
      <OperationCard op={op.data} />
      {done && op.data.type === 'upgrade' && !rollbackId && (
        <ConfirmButton
          label="Roll back"
          title="Roll back"
          description="Return to the previous good version (the one before this upgrade) on its checkpoint."
          confirmLabel="Roll back"
          danger
          onConfirm={async () => {
            try {
              const r = await api<Operation>(`/api/cp/queries/${queryId}/rollback`, {
                method: 'POST',
                json: {},
              });
              setRollbackId(r.id);
            } catch (e) {
              setError(e instanceof ApiCallError ? e.message : String(e));
            }
          }}
        />
      )}
      {error && (
        <p role="alert" style={{ color: 'var(--danger)' }}>
          {error}
        </p>
      )}
      {rollbackId && <WatchOperation id={rollbackId} queryId={queryId} />}
    </section>
  );
}

/** Upgrade (checks, drain, start, health gate, automatic rollback) or a plain deploy of the version. */
function UpgradeControls(props: {
  queryId: string;
  version: number;
  compatible: boolean | null;
  onOperation: (id: string) => void;
  onError: (e: unknown) => void;
}) {
  const [strategy, setStrategy] = useState<'in-place' | 'new-checkpoint'>(
    props.compatible === false ? 'new-checkpoint' : 'in-place',
  );
  const [startingOffsets, setStartingOffsets] = useState<'continue' | 'earliest' | 'latest'>('continue');
  const start = (path: string, body: unknown) => async () => {
    try {
      props.onOperation(
        (await api<Operation>(`/api/cp/queries/${props.queryId}/${path}`, { method: 'POST', json: body })).id,
      );
    } catch (e) {
      props.onError(e);
    }
  };
  return (
    <div className="actions" data-testid="upgrade-controls">
      <label>
        Strategy
        <select value={strategy} onChange={(e) => setStrategy(e.target.value as typeof strategy)}>
          <option value="in-place">in-place (same checkpoint)</option>
          <option value="new-checkpoint">new checkpoint (old one kept for rollback)</option>
        </select>
      </label>
      {strategy === 'new-checkpoint' && (
        <label>
          Start from
          <select
            value={startingOffsets}
            onChange={(e) => setStartingOffsets(e.target.value as typeof startingOffsets)}
          >
            <option value="continue">where the old version stopped</option>
            <option value="earliest">earliest (rebuild state)</option>
            <option value="latest">latest (new data only)</option>
          </select>
        </label>
      )}
      <ConfirmButton
        label={`Upgrade to version ${props.version}`}
        title={`Upgrade to version ${props.version}`}
        description={
          strategy === 'in-place'
            ? 'Drain, start this version on the same checkpoint, then a health gate; a failing version is rolled back automatically.'
            : `Drain, start this version on a new checkpoint (from: ${startingOffsets}), then a health gate; the old checkpoint is kept for rollback.`
        }
        confirmLabel="Upgrade"
        danger={props.compatible === false && strategy === 'in-place'}
        onConfirm={start(
          'upgrade',
          strategy === 'in-place'
            ? { version: props.version, strategy }
            : { version: props.version, strategy, startingOffsets },
        )}
      />
      <ConfirmButton
        label={`Deploy version ${props.version}`}
        title={`Deploy version ${props.version}`}
        description="A plain deploy (also for a stopped query): no health gate, no automatic rollback."
        confirmLabel="Deploy"
        onConfirm={start('deploy', { version: props.version })}
      />
    </div>
  );
}
