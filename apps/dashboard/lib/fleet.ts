// The queries page's live data. The control plane streams events per query; a page of 500 queries
// cannot hold 500 streams, so the dashboard server keeps one poller per session token, shared by
// every browser tab of that token through one SSE stream each (app/api/stream/queries).
//
// Three rhythms, independent so that a slow control plane cannot slow the page's clock:
// - publish: every second, the newest rows go to the subscribers when anything changed since the
//   last publish (the page's 1 Hz live update);
// - list: the query list and the firing alerts (two requests), again as soon as the last answer
//   is in and a second has passed;
// - details: instances, rates and lag of the queries that run or changed (3 requests each), at most
//   MAX_REFRESH_PER_TICK queries a second and CONCURRENCY requests at a time, most overdue first.
// Before, one tick did all three in sequence and published only at its end: with 40 detail
// refreshes per tick on a loaded control plane a tick took 3-7 s and the page updated at 0.15-0.3 Hz.
import 'server-only';
import { createHash } from 'node:crypto';
import { cpFetch } from './control-plane';
import {
  pushBounded,
  sumRates,
  type FleetRow,
  type LagLike,
  type ProgressLike,
  type QuerySummary,
} from './fleet-row';

const TICK_MS = 1000;
/** Detail requests in flight at once, per token (the control plane serves other clients too). */
const CONCURRENCY = 8;
/** Queries whose details (3 requests each) are refreshed in one second, at most. */
const MAX_REFRESH_PER_TICK = 40;
/** A query that is neither running nor changed has its details refreshed this rarely. */
const IDLE_REFRESH_MS = 30_000;
/** A poller with no subscriber stops after this long (a page load reuses a warm one). */
const IDLE_STOP_MS = 20_000;
/** Bounds what a token can make the dashboard hold (rows beyond this are not shown). */
const MAX_QUERIES = 5000;

export type FleetState =
  | { kind: 'ok'; rows: FleetRow[]; at: string }
  | { kind: 'error'; status: number | null; message: string; at: string };

type Listener = (s: FleetState) => void;

interface Detail {
  fetchedAt: number;
  key: string;
}

interface Due {
  q: QuerySummary;
  key: string;
  since: number;
}

class Fleet {
  private rows = new Map<string, FleetRow>();
  private order: string[] = [];
  private details = new Map<string, Detail>();
  private due: Due[] = [];
  private listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private listing = false;
  private refreshing = false;
  /** Bumped by every change of the rows; compared with what was last published. */
  private changes = 0;
  private published = -1;
  /** The last list answered: rows are published only then (an error state stays until it does). */
  private listOk = false;
  private lastUse = Date.now();
  state: FleetState | null = null;
  private firstList: Promise<void> | null = null;

  constructor(
    private readonly token: string,
    private readonly onIdle: () => void,
  ) {}

  /** The current state, after the first list if none has arrived yet. */
  async snapshot(): Promise<FleetState> {
    this.lastUse = Date.now();
    this.ensureRunning();
    if (!this.state) await this.firstList;
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
    this.firstList = this.list().then(() => this.publishRows());
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
    this.publishRows();
    // A slow control plane: a beat is skipped rather than requests piled up.
    if (!this.listing) void this.list();
    if (!this.refreshing) void this.refreshDue();
  }

  private async list(): Promise<void> {
    this.listing = true;
    try {
      await this.poll();
    } catch (e) {
      this.listOk = false;
      this.publish({
        kind: 'error',
        status: null,
        message: (e as Error).message,
        at: new Date().toISOString(),
      });
    } finally {
      this.listing = false;
    }
  }

  private async poll(): Promise<void> {
    const res = await cpFetch('/api/v1/queries', { token: this.token });
    if (!res.ok) {
      this.listOk = false;
      this.publish({
        kind: 'error',
        status: res.status,
        message: await res.text(),
        at: new Date().toISOString(),
      });
      return;
    }
    const list = ((await res.json()) as QuerySummary[]).slice(0, MAX_QUERIES);
    const firing = await this.firingAlerts();
    const ids = new Set(list.map((q) => q.id));
    for (const id of [...this.rows.keys()])
      if (!ids.has(id)) {
        this.rows.delete(id);
        this.details.delete(id);
      }
    const now = Date.now();
    const due: Due[] = [];
    let changed = this.rows.size !== list.length || this.order.some((id, i) => list[i]?.id !== id);
    for (const q of list) {
      const live = q.phase === 'RUNNING' || q.phase === 'DEGRADED' || q.phase === 'DEPLOYING';
      const key = `${q.phase}|${q.updatedAt}|${q.lastProgressAt ?? ''}`;
      const d = this.details.get(q.id);
      const prev = this.rows.get(q.id);
      const row = this.merge(q, prev, firing ? (firing.get(q.id) ?? 0) : (prev?.firingAlerts ?? null));
      if (row !== prev) {
        this.rows.set(q.id, row);
        changed = true;
      }
      // Never fetched or changed: first; running: every time; the rest now and then.
      const since = d ? now - d.fetchedAt : Infinity;
      if (!d || d.key !== key) due.push({ q, key, since: Infinity });
      else if (live || since > IDLE_REFRESH_MS) due.push({ q, key, since });
    }
    // Most overdue first: 500 idle queries are refreshed a slice at a time, not in one burst.
    due.sort((a, b) => b.since - a.since);
    this.due = due;
    this.order = list.map((q) => q.id);
    if (changed) this.changes++;
    const wasOk = this.listOk;
    this.listOk = true;
    // After an error (or at the start), the rows come at once rather than on the next beat.
    if (!wasOk) this.publishRows();
  }

  /** Details of up to MAX_REFRESH_PER_TICK due queries, CONCURRENCY requests at a time. */
  private async refreshDue(): Promise<void> {
    const batch = this.due.splice(0, MAX_REFRESH_PER_TICK);
    if (batch.length === 0) return;
    this.refreshing = true;
    try {
      await runBounded(
        batch.map(
          ({ q, key }) =>
            () =>
              this.refresh(q, key),
        ),
        CONCURRENCY,
      );
    } finally {
      this.refreshing = false;
    }
  }

  private publishRows(): void {
    if (!this.listOk || (this.published === this.changes && this.state?.kind === 'ok')) return;
    const rows: FleetRow[] = [];
    for (const id of this.order) {
      const r = this.rows.get(id);
      if (r) rows.push(r);
    }
    this.published = this.changes;
    this.publish({ kind: 'ok', rows, at: new Date().toISOString() });
  }

  /** Firing alerts per query id (one request), or null when the control plane has no alerting API. */
  private async firingAlerts(): Promise<Map<string, number> | null> {
    const res = await cpFetch('/api/v1/alerts?state=firing&limit=1000', { token: this.token }).catch(
      () => null,
    );
    if (!res?.ok) return null;
    const counts = new Map<string, number>();
    for (const a of (await res.json()) as { queryId: string }[])
      counts.set(a.queryId, (counts.get(a.queryId) ?? 0) + 1);
    return counts;
  }

  /** The row of q: prev itself when the list changed nothing of it. */
  private merge(q: QuerySummary, prev: FleetRow | undefined, firingAlerts: number | null): FleetRow {
    if (
      prev &&
      prev.name === q.name &&
      prev.phase === q.phase &&
      prev.desiredState === q.desired.state &&
      prev.version === q.desired.version &&
      prev.desiredInstances === q.desired.instances &&
      prev.rateLimit === q.desired.rateLimit &&
      prev.lastProgressAt === q.lastProgressAt &&
      prev.firingAlerts === firingAlerts
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
      lagHistory: prev?.lagHistory ?? [],
      firingAlerts,
    };
  }

  /** Instances, rates (newest event per instance) and lag of one query. */
  private async refresh(q: QuerySummary, key: string): Promise<void> {
    const base = `/api/v1/queries/${q.id}`;
    const limit = Math.min(100, Math.max(4, q.desired.instances * 3));
    const [detail, progress, lag] = await Promise.all([
      cpFetch(base, { token: this.token }).then((r) => (r.ok ? r.json() : null)),
      q.lastProgressAt
        ? cpFetch(`${base}/progress?limit=${limit}`, { token: this.token }).then((r) =>
            r.ok ? r.json() : null,
          )
        : Promise.resolve([]),
      cpFetch(`${base}/lag`, { token: this.token }).then((r) => (r.ok ? r.json() : null)),
    ]);
    const prev = this.rows.get(q.id);
    if (!prev) return;
    // A new object: rows already published are never changed under their subscribers.
    const row = { ...prev };
    const running = (detail as { observed?: { runningInstances?: number } } | null)?.observed
      ?.runningInstances;
    if (typeof running === 'number') row.runningInstances = running;
    const rates = Array.isArray(progress) ? sumRates(progress as ProgressLike[]) : null;
    const live = row.phase === 'RUNNING' || row.phase === 'DEGRADED' || row.phase === 'DEPLOYING';
    row.inputRowsPerSecond = rates && live ? rates.input : rates ? 0 : null;
    row.processedRowsPerSecond = rates && live ? rates.processed : rates ? 0 : null;
    const l = lag as LagLike | null;
    if (l && typeof l.totalRecordsBehind === 'number') {
      row.lagRecords = l.totalRecordsBehind;
      row.lagSeconds = l.maxSecondsBehind;
      row.lagHistory = pushBounded(row.lagHistory, l.totalRecordsBehind);
    }
    this.rows.set(q.id, row);
    this.changes++;
    this.details.set(q.id, { fetchedAt: Date.now(), key });
  }

  private publish(s: FleetState): void {
    this.state = s;
    for (const l of this.listeners) l(s);
  }
}

async function runBounded(work: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const job = work[next++]!;
      await job().catch(() => undefined); // one query's detail failing leaves its last values
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, work.length) }, worker));
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
