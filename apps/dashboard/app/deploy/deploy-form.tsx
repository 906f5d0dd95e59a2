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
          <ConfirmButton
            label={`Deploy version ${created.version}`}
            title={`Deploy version ${created.version}`}
            description={
              created.compatibility && !created.compatibility.compatible
                ? 'This version is NOT compatible with the running version’s checkpoint; the deploy may fail or lose state.'
                : 'A rolling upgrade of the running instances.'
            }
            confirmLabel="Deploy"
            danger={created.compatibility?.compatible === false}
            onConfirm={async () => {
              try {
                const op = await api<Operation>(`/api/cp/queries/${queryId}/deploy`, {
                  method: 'POST',
                  json: { version: created.version },
                });
                setOperationId(op.id);
              } catch (e) {
                fail(e);
              }
            }}
          />
        </section>
      )}
      {operationId && <WatchOperation id={operationId} />}
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

export function WatchOperation({ id }: { id: string }) {
  const op = useSWR<Operation>(`/api/cp/operations/${id}`, fetcher, {
    refreshInterval: (d) => (d && ['SUCCEEDED', 'FAILED'].includes(d.state) ? 0 : 1000),
  });
  if (op.error) return <ErrorState error={op.error} what="the operation" />;
  if (!op.data) return <Loading what="the operation" />;
  return (
    <section aria-labelledby="watch-h">
      <h2 id="watch-h">Operation</h2>
      <OperationCard op={op.data} />
    </section>
  );
}
