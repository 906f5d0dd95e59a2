'use client';
// Every query, live: rows arrive over SSE from the dashboard's fleet poller (lib/fleet.ts).
import Link from 'next/link';
import { memo, useEffect, useMemo, useState } from 'react';
import { Sparkline } from '@/components/sparkline';
import { Empty, Loading } from '@/components/states';
import { sortRows, type FleetRow, type SortKey } from '@/lib/fleet-row';
import { num, plural, seconds } from '@/lib/format';

type FleetState =
  | { kind: 'ok'; rows: FleetRow[]; at: string; total?: number }
  | { kind: 'error'; status: number | null; message: string; at: string };

const PHASES = ['PENDING', 'DEPLOYING', 'RUNNING', 'DEGRADED', 'STOPPED', 'FAILED'];

export function QueriesTable({ initial }: { initial: FleetState | null }) {
  const [state, setState] = useState<FleetState | null>(initial);
  const [live, setLive] = useState(false);
  const [search, setSearch] = useState('');
  const [phase, setPhase] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'name', dir: 1 });

  useEffect(() => {
    const es = new EventSource('/api/stream/queries');
    const onMsg = (e: MessageEvent<string>) => setState(JSON.parse(e.data) as FleetState);
    es.addEventListener('fleet', onMsg);
    es.addEventListener('fleet-error', onMsg);
    es.onopen = () => setLive(true);
    es.onerror = () => setLive(false);
    return () => es.close();
  }, []);

  const rows = useMemo(() => {
    if (state?.kind !== 'ok') return [];
    const q = search.trim().toLowerCase();
    const picked = state.rows.filter(
      (r) => (!q || r.name.toLowerCase().includes(q) || r.id.startsWith(q)) && (!phase || r.phase === phase),
    );
    return sortRows(picked, sort.key, sort.dir);
  }, [state, search, phase, sort]);

  const header = (key: SortKey, label: string, numeric = false) => (
    <th
      className={numeric ? 'num' : undefined}
      aria-sort={sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}
      scope="col"
    >
      <button
        type="button"
        onClick={() => setSort((s) => ({ key, dir: s.key === key ? (-s.dir as 1 | -1) : 1 }))}
      >
        {label}
      </button>
    </th>
  );

  return (
    <>
      <div className="toolbar">
        <label>
          Search
          <input
            type="search"
            value={search}
            maxLength={200}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="name or id"
          />
        </label>
        <label>
          Phase
          <select value={phase} onChange={(e) => setPhase(e.target.value)}>
            <option value="">all</option>
            {PHASES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <span className="muted" role="status" aria-live="off" data-testid="live">
          {live ? 'live' : 'connecting…'}
          {state?.kind === 'ok' && ` · ${plural(state.total ?? state.rows.length, 'query', 'queries')}`}
        </span>
      </div>
      {state === null ? (
        <Loading what="queries" />
      ) : state.kind === 'error' ? (
        <div className="state error" role="alert">
          Could not load the queries:{' '}
          {state.status === null ? 'the control plane is not reachable' : `HTTP ${state.status}`}
        </div>
      ) : state.rows.length === 0 ? (
        <Empty>
          No queries yet. <Link href="/deploy">Deploy one</Link>.
        </Empty>
      ) : rows.length === 0 ? (
        <Empty>No query matches the search or filter.</Empty>
      ) : (
        <table data-testid="queries-table">
          <caption className="sr-only">Queries, live</caption>
          <thead>
            <tr>
              {header('name', 'Name')}
              {header('phase', 'Phase')}
              {header('version', 'Version', true)}
              <th scope="col" className="num">
                Instances (running/desired)
              </th>
              {header('input', 'Input rows/s', true)}
              {header('processed', 'Processed rows/s', true)}
              {header('lagRecords', 'Lag (records)', true)}
              {header('lagSeconds', 'Lag (s)', true)}
              <th scope="col">Lag trend</th>
              <th scope="col" className="num">
                Firing alerts
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <Row key={r.id} row={r} />
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

const Row = memo(
  function Row({ row: r }: { row: FleetRow }) {
    return (
      <tr data-query={r.name}>
        <td>
          <Link href={`/queries/${r.id}`}>{r.name}</Link>
        </td>
        <td>
          <span className={`phase phase-${r.phase}`}>{r.phase}</span>
        </td>
        <td className="num">{r.version}</td>
        <td className="num" data-testid="instances">
          {r.runningInstances ?? '—'}/{r.desiredInstances}
        </td>
        <td className="num" data-testid="input-rate">
          {num(r.inputRowsPerSecond)}
        </td>
        <td className="num">{num(r.processedRowsPerSecond)}</td>
        <td className="num">{num(r.lagRecords)}</td>
        <td className="num">{seconds(r.lagSeconds)}</td>
        <td data-testid="lag-trend">
          <Sparkline values={r.lagHistory} label={`lag of ${r.name}, last ${r.lagHistory.length} samples`} />
        </td>
        <td className="num" data-testid="firing-alerts">
          {r.firingAlerts ?? '—'}
        </td>
      </tr>
    );
  },
  (a, b) => sameRow(a.row, b.row),
);

function sameRow(a: FleetRow, b: FleetRow): boolean {
  for (const k of Object.keys(a) as (keyof FleetRow)[]) {
    if (k === 'lagHistory') continue;
    if (a[k] !== b[k]) return false;
  }
  const [x, y] = [a.lagHistory, b.lagHistory];
  return x.length === y.length && x[0] === y[0] && x.at(-1) === y.at(-1);
}
