'use client';
import type { SWRResponse } from 'swr';
import { Loaded } from '@/components/states';
import { when } from '@/lib/format';
import type { Operation } from './types';

export function OperationsPanel({ ops }: { ops: SWRResponse<Operation[]> }) {
  return (
    <section aria-labelledby="ops-h">
      <h2 id="ops-h">Operations</h2>
      <Loaded result={ops} what="operations" empty="No operations yet.">
        {(list) => (
          <div className="grid2" data-testid="operations">
            {list.map((op) => (
              <OperationCard key={op.id} op={op} />
            ))}
          </div>
        )}
      </Loaded>
    </section>
  );
}

export function OperationCard({ op }: { op: Operation }) {
  return (
    <div className="panel" data-op-type={op.type} data-op-state={op.state}>
      <strong>{op.type}</strong> <span className="tag">{op.state}</span>{' '}
      <span className="muted">
        {when(op.createdAt)} by {op.requestedBy ?? '—'}
      </span>
      <div>
        <progress max={100} value={op.progress} aria-label={`${op.type} progress`} /> {op.progress}%
      </div>
      <ol className="steps">
        {op.steps.map((s, i) => (
          <li key={`${s.name}-${i}`} className={`step-${s.state}`}>
            {s.state === 'done' ? '✓' : s.state === 'failed' ? '✗' : s.state === 'running' ? '…' : '○'}{' '}
            {s.name}
            {s.message ? <span className="muted"> — {s.message}</span> : null}
          </li>
        ))}
      </ol>
      {op.error && <p style={{ color: 'var(--danger)' }}>{op.error}</p>}
    </div>
  );
}
