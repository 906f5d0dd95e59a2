// Leader election through a coordination.k8s.io Lease, the way client-go's leaderelection does it:
// the holder renews the Lease every SLUICE_LEADER_RETRY_MS; another replica takes it over only after
// it has seen the same Lease record, unchanged, for a whole lease duration by its own clock (no
// comparison of clocks between machines). Every write carries the resourceVersion it read, so two
// replicas racing for an expired Lease cannot both win: the second gets 409 Conflict.
// The leader steps down when it has not renewed for two thirds of the duration (a follower waits
// the full duration after the last renewal it saw), so two replicas never lead at once.
import type { V1Lease } from '@kubernetes/client-node';

/** The few calls on the Lease; `kubernetes-lease-api.ts` implements them with @kubernetes/client-node. */
export interface LeaseApi {
  /** null when it does not exist. */
  read(namespace: string, name: string): Promise<V1Lease | null>;
  /** false when another replica created it first (409). */
  create(lease: V1Lease): Promise<boolean>;
  /** false when it changed since it was read (409: metadata.resourceVersion no longer current). */
  replace(lease: V1Lease): Promise<boolean>;
}

export interface LeaseLockOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseMs: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

export class LeaseLock {
  private readonly now: () => number;
  /** The record last seen, and when (local clock) it was first seen: expiry is measured from then. */
  private observed: { resourceVersion: string; since: number } | null = null;
  /** When the last successful renewal (or acquisition) was sent. */
  private renewedAt: number | null = null;

  constructor(
    private readonly api: LeaseApi,
    private readonly opts: LeaseLockOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
  }

  /** Two thirds of the lease: past this without a renewal, the leader must assume it lost. */
  get renewDeadlineMs(): number {
    return Math.floor((this.opts.leaseMs * 2) / 3);
  }

  /**
   * Acquires the Lease (follower) or renews it (leader); true when this replica holds it afterwards.
   * An error of the API server propagates; the caller decides with `stillValid` whether the leader
   * may keep leading until its renew deadline.
   */
  async tryHold(): Promise<boolean> {
    const started = this.now();
    const current = await this.api.read(this.opts.namespace, this.opts.name);
    if (!current) {
      const ok = await this.api.create(this.record(null));
      if (ok) this.renewedAt = started;
      return ok;
    }
    const rv = current.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== rv) this.observed = { resourceVersion: rv, since: started };
    const holder = current.spec?.holderIdentity ?? '';
    const mine = holder === this.opts.identity;
    const durationMs = (current.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = holder === '' || started - this.observed.since >= durationMs;
    if (!mine && !expired) {
      this.renewedAt = null;
      return false;
    }
    const ok = await this.api.replace(this.record(current));
    if (ok) this.renewedAt = started;
    else if (mine) this.renewedAt = null; // someone else wrote it: never assume we still hold it
    return ok;
  }

  /** Whether a leader whose renewal just failed may still act as leader (within its renew deadline). */
  stillValid(): boolean {
    return this.renewedAt !== null && this.now() - this.renewedAt < this.renewDeadlineMs;
  }

  /** Gives the Lease up (on shutdown), so a follower takes over on its next try. */
  async release(): Promise<void> {
    const current = await this.api.read(this.opts.namespace, this.opts.name);
    this.renewedAt = null;
    if (!current || current.spec?.holderIdentity !== this.opts.identity) return;
    await this.api.replace({
      ...current,
      spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1 },
    });
  }

  /** The holder named by the Lease, when it was renewed within its duration (by the API server's times). */
  static holderOf(lease: V1Lease | null, nowMs = Date.now()): string | null {
    const holder = lease?.spec?.holderIdentity;
    const renewed = lease?.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : NaN;
    const durationMs = (lease?.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (!holder || !Number.isFinite(renewed)) return null;
    return nowMs - renewed <= durationMs ? holder : null;
  }

  private record(current: V1Lease | null): V1Lease {
    const wall = new Date();
    const takingOver = current?.spec?.holderIdentity !== this.opts.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(current?.metadata ?? {}),
        name: this.opts.name,
        namespace: this.opts.namespace,
        labels: {
          ...(current?.metadata?.labels ?? {}),
          'app.kubernetes.io/managed-by': 'sluice-control-plane',
        },
      },
      spec: {
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.opts.leaseMs / 1000)),
        acquireTime: takingOver ? wall : (current?.spec?.acquireTime ?? wall),
        renewTime: wall,
        leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (current && takingOver ? 1 : 0),
      },
    };
  }
}
