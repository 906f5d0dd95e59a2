// Exactly one control plane of a cluster leads: it reconciles, runs operations, scales and (later)
// evaluates alerts; every replica serves the API. The leader is whoever holds a session-level
// PostgreSQL advisory lock on a dedicated connection. PostgreSQL releases the lock when that
// session ends, so a killed leader's lock frees as soon as its socket closes and a follower, which
// retries every SLUICE_LEADER_RETRY_MS, takes over on its next try.
//
// The lock is as good as the session: a leader whose connection fails (or whose check times out)
// steps down at once, before it could be replaced.
//
// With the Kubernetes runtime the leader holds a coordination.k8s.io Lease instead (lease-lock.ts;
// SLUICE_LEADER_ELECTION picks): the way Kubernetes controllers elect, visible with kubectl, and
// independent of how the database's sessions behave behind a pooler or a managed failover.
import os from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Client } from 'pg';
import { Gauge } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { advisoryLockKey, leaderLockName } from './advisory-lock-key';
import { clusterName, clusterSlug } from './cluster-name';
import { LeaseLock, type LeaseApi } from './lease-lock';

export type LeadershipListener = (leading: boolean) => void | Promise<void>;

@Injectable()
export class LeaderElection implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(LeaderElection.name);
  /** How this replica shows in pg_stat_activity and in the API: host and pid, or the pod name. */
  readonly replica = (process.env.POD_NAME ?? `${os.hostname()}/${process.pid}`).slice(0, 48);
  readonly key: [number, number];
  readonly cluster: string;
  /** `lease` with the Kubernetes runtime (unless SLUICE_LEADER_ELECTION says otherwise). */
  readonly mechanism: 'lease' | 'advisory-lock';
  /** The Lease (namespace/name) when the mechanism is `lease`. */
  readonly lease: { namespace: string; name: string } | null;
  private leaseApi: LeaseApi | null = null;
  private leaseLock: LeaseLock | null = null;
  private client: Client | null = null;
  private leading = false;
  private leadingSince: Date | null = null;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private readonly listeners = new Set<LeadershipListener>();
  private readonly gauge: Gauge;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    metrics: MetricsRegistry,
  ) {
    this.cluster = clusterName(config);
    this.key = advisoryLockKey(leaderLockName(this.cluster));
    const election = config.SLUICE_LEADER_ELECTION;
    this.mechanism =
      election === 'lease' || (election === 'auto' && config.SLUICE_RUNTIME === 'kubernetes')
        ? 'lease'
        : 'advisory-lock';
    this.lease =
      this.mechanism === 'lease'
        ? { namespace: config.SLUICE_K8S_NAMESPACE, name: `sluice-leader-${clusterSlug(this.cluster)}` }
        : null;
    this.gauge = new Gauge({
      name: 'sluice_leader',
      help: 'Whether this control-plane replica is the leader of its cluster (1) or a follower (0)',
      registers: [metrics.registry],
    });
    this.gauge.set(0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  get since(): Date | null {
    return this.leadingSince;
  }

  /** Called on every change of leadership, and at once with the current state. */
  onChange(listener: LeadershipListener): () => void {
    this.listeners.add(listener);
    void this.notify(listener, this.leading);
    return () => this.listeners.delete(listener);
  }

  /** The first try happens before the app serves, so a lone replica leads from its first request. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.lease) {
      // Loaded on demand, like the Kubernetes runtime: local runs never need the client.
      const { ClientNodeLeaseApi } = await import('./kubernetes-lease-api');
      this.useLeaseApi(new ClientNodeLeaseApi());
    }
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.config.SLUICE_LEADER_RETRY_MS);
    this.timer.unref();
  }

  /** Who holds the Lease now (by its renew time), when the mechanism is `lease`. */
  async leaseHolder(): Promise<string | null> {
    if (!this.lease || !this.leaseApi) return null;
    return LeaseLock.holderOf(await this.leaseApi.read(this.lease.namespace, this.lease.name));
  }

  /** The Lease's API; the constructor's default is @kubernetes/client-node. */
  useLeaseApi(api: LeaseApi): void {
    if (!this.lease) throw new Error('leader election does not use a Lease');
    this.leaseApi = api;
    this.leaseLock = new LeaseLock(api, {
      ...this.lease,
      identity: this.replica,
      leaseMs: this.config.SLUICE_LEADER_LEASE_MS,
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    if (this.leaseLock) {
      if (this.leading) {
        // Give the Lease up: a follower takes over on its next try instead of after the duration.
        this.setLeading(false);
        await this.leaseLock.release().catch((e: Error) => {
          this.logger.warn(`Lease release failed (it expires by itself): ${e.message}`);
        });
      }
      return;
    }
    const client = this.client;
    this.client = null;
    if (this.leading) {
      // Unlock explicitly (ending the session would too): a follower can take over on its next try
      // instead of waiting for PostgreSQL to notice the closed socket.
      await client?.query('SELECT pg_advisory_unlock($1, $2)', this.key).catch((e: Error) => {
        this.logger.warn(`leader lock release failed (the session's end releases it): ${e.message}`);
      });
      this.setLeading(false);
    }
    await client?.end().catch(() => undefined); // already closed: nothing left to release
  }

  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.attempt().finally(() => (this.ticking = null));
    return this.ticking;
  }

  private async attempt(): Promise<void> {
    if (this.leaseLock) return this.attemptLease(this.leaseLock);
    try {
      const client = this.client ?? (await this.connect());
      if (this.leading) {
        // The lock lives as long as the session: a query that answers proves the session does.
        await client.query('SELECT 1');
        return;
      }
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', this.key);
      if (r.rows[0]?.ok) this.setLeading(true);
    } catch (e) {
      this.lose(`leader election: ${(e as Error).message}`);
    }
  }

  private async attemptLease(lock: LeaseLock): Promise<void> {
    try {
      const holding = await lock.tryHold();
      if (!holding && this.leading) this.logger.warn(`the Lease ${this.lease?.name} has another holder`);
      this.setLeading(holding);
    } catch (e) {
      // The API server did not answer: a leader keeps leading until its renew deadline, then steps
      // down before any follower may take the Lease over.
      if (this.leading && !lock.stillValid()) {
        this.logger.warn(
          `leader election: ${(e as Error).message}: stepping down as leader of cluster ${this.cluster}`,
        );
        this.setLeading(false);
      } else if (!this.leading) {
        this.logger.warn(`leader election: ${(e as Error).message}`);
      }
    }
  }

  private async connect(): Promise<Client> {
    const timeout = Math.max(1000, this.config.SLUICE_LEADER_RETRY_MS);
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      application_name: `sluice:${this.replica}`,
      connectionTimeoutMillis: timeout,
      query_timeout: timeout,
      keepAlive: true,
    });
    // Without a listener a dropped connection's 'error' event would crash the process.
    client.on('error', (e) => this.lose(`leader election connection: ${e.message}`));
    client.on('end', () => {
      if (this.client === client) this.lose('leader election connection closed');
    });
    this.client = client;
    await client.connect();
    return client;
  }

  /** Drops the session (its lock goes with it) and steps down; the next tick starts afresh. */
  private lose(reason: string): void {
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => undefined); // the session may already be gone; ending is best effort
    if (this.leading) {
      this.logger.warn(`${reason}: stepping down as leader of cluster ${this.cluster}`);
      this.setLeading(false);
    } else if (!this.stopped) {
      this.logger.warn(reason);
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.leadingSince = leading ? new Date() : null;
    this.gauge.set(leading ? 1 : 0);
    if (leading)
      this.logger.log(`${this.replica} is now the leader of cluster ${this.cluster} (${this.mechanism})`);
    for (const l of this.listeners) void this.notify(l, leading);
  }

  private async notify(listener: LeadershipListener, leading: boolean): Promise<void> {
    try {
      await listener(leading);
    } catch (e) {
      this.logger.warn(`leadership listener failed: ${(e as Error).message}`);
    }
  }
}
