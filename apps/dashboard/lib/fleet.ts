// The queries page's live data. The control plane streams events per query; a page of 500 queries
// cannot hold 500 streams, so the dashboard server keeps one poller per session token, shared by
// every browser tab of that token through one SSE stream each (app/api/stream/queries).
//
// Every second the poller asks two bulk answers together: the query list (name, phase, desired
// state) and GET /api/v1/live/queries (running instances, rates, lag, firing alerts of every
// query, a page of LIVE_PAGE at a time), and publishes the rows when anything changed. Before, the
// figures came from three requests per query, at most 40 queries a second: with 500 running
// queries a row's rates and lag were refreshed only every ~12 s.
// A poll still in flight when the next second comes skips that beat rather than piling up
// requests on a slow control plane.
import 'server-only';
import { createHash } from 'node:crypto';
import { cpFetch } from './control-plane';
import type { QueryLiveFiguresPage } from '@sluice/contracts';
import { withFigures, type FleetRow, type QueryLiveFigures, type QuerySummary } from './fleet-row';

const TICK_MS = 1000;
/** A poller with no subscriber stops after this long (a page load reuses a warm one). */
const IDLE_STOP_MS = 20_000;
/** Bounds what a token can make the dashboard hold (rows beyond this are not shown). */
const MAX_QUERIES = 5000;
/** Queries per GET /api/v1/live/queries page (the control plane allows up to 1,000). */
const LIVE_PAGE = 1000;

export type FleetState =
  | { kind: 'ok'; rows: FleetRow[]; at: string }
  | { kind: 'error'; status: number | null; message: string; at: string };

type Listener = (s: FleetState) => void;

class Fleet {
  private rows = new Map<string, FleetRow>();
  private order: string[] = [];
  private listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastUse = Date.now();
  state: FleetState | null = null;
  private firstPoll: Promise<void> | null = null;

  constructor(
    private readonly token: string,
    private readonly onIdle: () => void,
  ) {}

  /** The current state, after the first poll if none has arrived yet. */
  async snapshot(): Promise<FleetState> {
    this.lastUse = Date.now();
    this.ensureRunning();
    if (!this.state) await this.firstPoll;
    return this.state!;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    this.lastUse = Date.now();
    this.ensureRunning();
    if (this.state) l(this.state);
    return () => {
      this.listeners.delete(l);
      this.lastUse = Date.now();
    };
  }

  private ensureRunning(): void {
    if (this.timer) return;
    this.firstPoll = this.beat();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref?.();
  }

  private tick(): void {
    if (this.listeners.size === 0 && Date.now() - this.lastUse > IDLE_STOP_MS) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.onIdle();
      return;
    }
    if (!this.polling) void this.beat();
  }

  private async beat(): Promise<void> {
    this.polling = true;
    try {
      await this.poll();
    } catch (e) {
      this.publish({ kind: 'error', status: null, message: (e as Error).message, at: now() });
    } finally {
      this.polling = false;
    }
  }

  private async poll(): Promise<void> {
    const [res, figures] = await Promise.all([
      cpFetch('/api/v1/queries', { token: this.token }),
      this.liveFigures(),
    ]);
    if (!res.ok) {
      this.publish({ kind: 'error', status: res.status, message: await res.text(), at: now() });
      return;
    }
    const list = ((await res.json()) as QuerySummary[]).slice(0, MAX_QUERIES);
    const ids = new Set(list.map((q) => q.id));
    let changed =
      this.state?.kind !== 'ok' ||
      this.rows.size !== list.length ||
      this.order.some((id, i) => list[i]?.id !== id);
    for (const id of [...this.rows.keys()]) if (!ids.has(id)) this.rows.delete(id);
    for (const q of list) {
      const prev = this.rows.get(q.id);
      let row = fromSummary(q, prev);
      const f = figures?.get(q.id);
      if (f) row = withFigures(row, f);
      if (row !== prev) {
        this.rows.set(q.id, row);
        changed = true;
      }
    }
    this.order = list.map((q) => q.id);
    if (!changed) return;
    this.publish({ kind: 'ok', rows: this.order.map((id) => this.rows.get(id)!), at: now() });
  }

  /**
   * Every query's figures, page after page; null when the control plane refuses them (the rows
   * then keep their last figures, and the list's own error shows if the control plane is away).
   */
  private async liveFigures(): Promise<Map<string, QueryLiveFigures> | null> {
    const out = new Map<string, QueryLiveFigures>();
    let after: string | null = null;
    do {
      const res = await cpFetch(`/api/v1/live/queries?limit=${LIVE_PAGE}${after ? `&after=${after}` : ''}`, {
        token: this.token,
      }).catch(() => null);
      if (!res?.ok) return null;
      const page = (await res.json()) as QueryLiveFiguresPage;
      for (const f of page.items) out.set(f.id, f);
      after = page.next;
    } while (after && out.size < MAX_QUERIES);
    return out;
  }

  private publish(s: FleetState): void {
    this.state = s;
    for (const l of this.listeners) l(s);
  }
}

const now = () => new Date().toISOString();

/** The row of q: prev itself when the list changed nothing of it. */
function fromSummary(q: QuerySummary, prev: FleetRow | undefined): FleetRow {
  if (
    prev &&
    prev.name === q.name &&
    prev.phase === q.phase &&
    prev.desiredState === q.desired.state &&
    prev.version === q.desired.version &&
    prev.desiredInstances === q.desired.instances &&
    prev.rateLimit === q.desired.rateLimit &&
    prev.lastProgressAt === q.lastProgressAt
  )
    return prev;
  return {
    id: q.id,
    name: q.name,
    phase: q.phase,
    desiredState: q.desired.state,
    version: q.desired.version,
    desiredInstances: q.desired.instances,
    rateLimit: q.desired.rateLimit,
    lastProgressAt: q.lastProgressAt,
    runningInstances: prev?.runningInstances ?? null,
    inputRowsPerSecond: prev?.inputRowsPerSecond ?? null,
    processedRowsPerSecond: prev?.processedRowsPerSecond ?? null,
    lagRecords: prev?.lagRecords ?? null,
    lagSeconds: prev?.lagSeconds ?? null,
    lagReadAt: prev?.lagReadAt ?? null,
    lagHistory: prev?.lagHistory ?? [],
    firingAlerts: prev?.firingAlerts ?? null,
  };
}

const fleets = new Map<string, Fleet>();

/** The poller of this token (by hash: the token itself is not kept as a map key). */
export function fleetFor(token: string): Fleet {
  const key = createHash('sha256').update(token).digest('hex');
  let f = fleets.get(key);
  if (!f) {
    f = new Fleet(token, () => fleets.delete(key));
    fleets.set(key, f);
  }
  return f;
}
