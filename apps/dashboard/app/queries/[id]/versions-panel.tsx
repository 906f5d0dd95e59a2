'use client';
// Versions: each one's spec against the one before (a line diff, jsdiff) and the compatibility
// report the API computes (may it resume from that version's checkpoint?).
import { diffLines } from 'diff';
import { useState } from 'react';
import useSWR from 'swr';
import { Loaded } from '@/components/states';
import { fetcher } from '@/lib/client-api';
import { when } from '@/lib/format';
import type { CompatibilityReport, Version } from './types';

export function VersionsPanel({ id, desired }: { id: string; desired: number }) {
  const versions = useSWR<Version[]>(`/api/cp/queries/${id}/versions`, fetcher, { refreshInterval: 10_000 });
  const [picked, setPicked] = useState<number | null>(null);
  if (versions.error || !versions.data)
    return (
      <Loaded result={versions} what="versions">
        {() => null}
      </Loaded>
    );
  const list = versions.data;
  const current = picked ?? list.at(-1)?.version ?? 1;
  const v = list.find((x) => x.version === current);
  const prev = list.filter((x) => x.version < current).at(-1);
  return (
    <section aria-labelledby="versions-h">
      <h2 id="versions-h">Versions</h2>
      <div className="toolbar">
        <label>
          Version
          <select value={current} onChange={(e) => setPicked(Number(e.target.value))}>
            {list.map((x) => (
              <option key={x.version} value={x.version}>
                v{x.version}
                {x.version === desired ? ' (desired)' : ''} · {when(x.createdAt)}
              </option>
            ))}
          </select>
        </label>
        {v && (
          <span className="muted">
            plan {v.planHash.slice(0, 12)} · by {v.createdBy ?? '—'}
          </span>
        )}
      </div>
      {v && prev ? (
        <div className="grid2">
          <div>
            <h3>
              Spec diff v{prev.version} → v{v.version}
            </h3>
            <SpecDiff before={prev.specText} after={v.specText} />
          </div>
          <div>
            <h3>Compatibility with v{prev.version}</h3>
            <Compatibility id={id} version={v.version} against={prev.version} />
          </div>
        </div>
      ) : v ? (
        <pre className="diff" tabIndex={0}>
          {v.specText}
        </pre>
      ) : null}
    </section>
  );
}

export function SpecDiff({ before, after }: { before: string; after: string }) {
  const parts = diffLines(before, after);
  return (
    <pre className="diff" tabIndex={0} aria-label="spec diff">
      {parts.map((p, i) => (
        <span key={i} className={p.added ? 'add' : p.removed ? 'del' : undefined}>
          {p.value
            .replace(/\n$/, '')
            .split('\n')
            .map((l) => `${p.added ? '+ ' : p.removed ? '- ' : '  '}${l}`)
            .join('\n')}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

function Compatibility({ id, version, against }: { id: string; version: number; against: number }) {
  const r = useSWR<CompatibilityReport>(
    `/api/cp/queries/${id}/versions/${version}/compatibility?against=${against}`,
    fetcher,
  );
  return (
    <Loaded result={r} what="the compatibility report">
      {(report) => <CompatibilityReportView report={report} />}
    </Loaded>
  );
}

export function CompatibilityReportView({ report }: { report: CompatibilityReport }) {
  return (
    <div data-testid="compatibility" data-compatible={report.compatible}>
      <p>
        <strong className={report.compatible ? 'sev-allowed' : 'sev-incompatible'}>
          {report.compatible ? 'Compatible' : 'Incompatible'}
        </strong>{' '}
        with the checkpoint of v{report.against}
      </p>
      {report.changes.length === 0 ? (
        <p className="muted">No changes that affect the checkpoint.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Severity</th>
              <th scope="col">Change</th>
              <th scope="col">Where</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {report.changes.map((c, i) => (
              <tr key={i}>
                <td className={`sev-${c.severity}`}>{c.severity}</td>
                <td>{c.kind}</td>
                <td>{c.path ?? c.operator ?? ''}</td>
                <td>
                  {c.message}
                  {c.before !== undefined && (
                    <span className="muted">
                      {' '}
                      ({c.before} → {c.after})
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
