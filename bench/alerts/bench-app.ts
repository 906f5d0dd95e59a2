// The control plane's alerting with the rest of the app left out (no reconciler, runtime, progress
// ingest or scaling: nothing would run 1,000 engines), its lag from a synthetic source, and each
// evaluation's start and end recorded. Same modules, guards and body parsing as the real app.
import 'reflect-metadata';
import fs from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { LoggerModule } from 'nestjs-pino';
import { AlertEvaluator } from '../../apps/control-plane/src/alerting/alert-evaluator.service';
import { AlertingModule } from '../../apps/control-plane/src/alerting/alerting.module';
import { LagSource } from '../../apps/control-plane/src/alerting/lag-source';
import { AuthModule } from '../../apps/control-plane/src/auth/auth.module';
import { loadAppConfig, type AppConfig } from '../../apps/control-plane/src/config/app-config';
import { HttpErrorFilter } from '../../apps/control-plane/src/errors/http-error.filter';
import type { LagReading } from '../../apps/control-plane/src/lag/lag.service';
import { LagService } from '../../apps/control-plane/src/lag/lag.service';
import { LeadershipModule } from '../../apps/control-plane/src/leadership/leadership.module';
import { loggerOptions } from '../../apps/control-plane/src/logging/logger.options';
import { MetricsModule } from '../../apps/control-plane/src/metrics/metrics.module';
import { RepositoriesModule } from '../../apps/control-plane/src/repositories/repositories.module';
import type { Pool, PoolClient } from 'pg';
import { PrismaRepository } from '../../apps/control-plane/src/repositories/prisma.repository';
import { AllocationSampler } from './allocation-sampler';
import { epochMs } from './outside-process';
import { syntheticPartitions } from './synthetic-partitions';

export interface BenchApp {
  base: string;
  /** The shares the evaluator uses (as many as asked unless the interval is too short for them). */
  shares: number;
  /** Between two passes (the interval divided by the shares). */
  passSpacingMs: number;
  /** Evaluation passes, one per share of the queries (evaluation-shares.ts). */
  evaluations: Array<{
    /** The share the pass evaluated. */
    share: number;
    /** Epoch ms (outside-process.ts: one clock with the prober's and the receiver's process). */
    startMs: number;
    endMs: number;
    phasesMs: Readonly<Record<string, number>>;
    transitions: number;
    /** Notification groups the router decided in this evaluation. */
    routedGroups: number;
    cpuMs: number;
    /** CPU of the main thread alone (the API's event loop), from /proc/thread-self/stat. */
    mainThreadCpuMs: number | null;
    /** Longest delay of the main event loop during the evaluation. */
    loopDelayMaxMs: number;
  }>;
  /** The main thread's garbage collections (epoch ms, as the probes): which slow probes one paused. */
  gcPauses: GcPause[];
  /** Waits of ≥ 1 ms for a connection of the API's PostgreSQL pool (Prisma's: prisma.repository.ts). */
  poolWaits: PoolWait[];
  /** The same for the alerting's own pool (PrismaRepository.sql). */
  sqlPoolWaits: PoolWait[];
  /**
   * Every request as the server saw it: from its headers parsed on the main thread to its
   * response handed to the socket (epoch ms). A probe minus its request is the time outside the
   * server's handling: the prober's process, loopback, and waiting for the main thread.
   */
  served: Array<{ startMs: number; endMs: number }>;
  close(): Promise<void>;
}

export interface PoolWait {
  startMs: number;
  endMs: number;
  /** Not a wait: the pool opened a new connection then. */
  opened?: boolean;
}

export interface GcPause {
  startMs: number;
  endMs: number;
  /** scavenge, mark-compact, incremental or weak callbacks (V8's kind of collection). */
  kind: string;
}

const GC_KINDS: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

/** Records the main thread's GC pauses (a worker thread's collections are its own isolate's). */
function observeGc(into: GcPause[]): PerformanceObserver {
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } }).detail?.kind ?? -1;
      const startMs = performance.timeOrigin + e.startTime;
      into.push({ startMs, endMs: startMs + e.duration, kind: GC_KINDS[kind] ?? String(kind) });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

/** Synthetic lag: P partitions, seconds from the profile, records and offsets consistent with it. */
class SyntheticLag extends LagSource {
  private readonly offsets = new Map<string, number>();
  /** With a poll: each query's reading as of the last poll (as LagService keeps them). */
  private readonly polled = new Map<string, LagReading>();
  private known: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly partitions: number,
    private readonly lagSeconds: (queryId: string, nowMs: number) => number,
    /**
     * 0: the lag is read at the evaluation (the figure is the evaluator's alone). Otherwise the
     * readings come from a poll every `pollMs`, as in a deployment, where the evaluator takes
     * LagService's last poll (lag-source.ts): a crossing is seen up to a poll later. The poll
     * reads one query after another with a turn of the event loop between every 25 (LagService
     * awaits each query's Kafka calls); Kafka's own cost is not emulated.
     */
    private readonly pollMs: number,
  ) {
    super();
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.poll(), pollMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private read(id: string, now: number): LagReading {
    const seconds = this.lagSeconds(id, now);
    // Committed offsets advance 1,000 a read; lag in records follows the seconds.
    const committed = (this.offsets.get(id) ?? 0) + 1000;
    this.offsets.set(id, committed);
    return {
      partitions: syntheticPartitions(this.partitions, committed, seconds, Math.floor(now / 1000)),
      readAtMs: now,
    };
  }

  private async poll(): Promise<void> {
    const ids = this.known;
    for (let i = 0; i < ids.length; i++) {
      if (i % 25 === 0) await new Promise((r) => setImmediate(r));
      this.polled.set(ids[i]!, this.read(ids[i]!, Date.now()));
    }
  }

  lagOf(queryIds: readonly string[]): Promise<Map<string, LagReading>> {
    const now = Date.now();
    const out = new Map<string, LagReading>();
    if (this.pollMs > 0) this.known = queryIds;
    for (const id of queryIds) {
      const polled = this.polled.get(id);
      // As KafkaLagSource: a poll's reading while at most three polls old, else a read now.
      if (polled && now - polled.readAtMs <= 3 * this.pollMs) out.set(id, polled);
      else out.set(id, this.read(id, now));
    }
    return Promise.resolve(out);
  }
}

/** The cluster the bench's control plane is (its queries must be this cluster's to be evaluated). */
export const BENCH_CLUSTER = `bench-alerts-${process.pid}`;

export async function startBenchApp(o: {
  databaseUrl: string;
  intervalMs: number;
  /** SLUICE_ALERT_EVAL_SHARES. */
  shares: number;
  partitions: number;
  lagSeconds: (queryId: string, nowMs: number) => number;
  /** SyntheticLag's poll (0: read at the evaluation). */
  lagPollMs: number;
}): Promise<BenchApp> {
  const config: AppConfig = loadAppConfig({
    ...process.env,
    DATABASE_URL: o.databaseUrl,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
    SLUICE_CLUSTER_NAME: BENCH_CLUSTER,
    SLUICE_ALERT_EVAL_INTERVAL_MS: String(o.intervalMs),
    SLUICE_ALERT_EVAL_SHARES: String(o.shares),
    SLUICE_ALERT_SIGNING_KEY: 'bench-alerts-signing-key-0123456789abcdef',
    SLUICE_ALERT_RECEIVER_HOSTS: '127.0.0.1',
  });

  @Module({
    imports: [
      LoggerModule.forRoot(loggerOptions(config)),
      RepositoriesModule.forRoot(config),
      MetricsModule.forRoot(config),
      LeadershipModule,
      AuthModule,
      ScheduleModule.forRoot(),
      BullModule.forRoot({ connection: redis(config.REDIS_URL), prefix: `sluice-bench-${process.pid}` }),
      AlertingModule,
    ],
    providers: [{ provide: APP_FILTER, useClass: HttpErrorFilter }],
  })
  class BenchModule {}

  const lag = new SyntheticLag(o.partitions, o.lagSeconds, o.lagPollMs);
  const moduleRef = await Test.createTestingModule({ imports: [BenchModule] })
    .overrideProvider(LagSource)
    .useValue(lag)
    // LagService polls Kafka for every running query on its own: nothing here reads it.
    .overrideProvider(LagService)
    .useValue({})
    .compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: true });
  const evaluations: BenchApp['evaluations'] = [];
  const evaluator = app.get(AlertEvaluator);
  const tick = evaluator.tick.bind(evaluator);
  // BENCH_ALLOC_PROFILE=<file>: the main thread's allocations during the warm evaluations, by function.
  const allocations = process.env.BENCH_ALLOC_PROFILE
    ? new AllocationSampler(process.env.BENCH_ALLOC_PROFILE)
    : undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  evaluator.tick = async (nowMs?: number, slotMs?: number, share?: number) => {
    const startMs = epochMs();
    const cpu = process.cpuUsage();
    const mainCpu = mainThreadCpuMs();
    loopDelay.reset();
    const profiled = allocations && evaluations.length >= 4;
    if (profiled) await allocations.start();
    const r = await tick(nowMs, slotMs, share);
    if (profiled) await allocations.stop();
    // CPU of this process while the pass ran (every thread: the evaluation's worker thread, the
    // pass's reads and writes, the API requests served meanwhile): less sensitive to the shared
    // box's load than the wall-clock duration.
    const used = process.cpuUsage(cpu);
    const mainAfter = mainThreadCpuMs();
    if (r)
      evaluations.push({
        share: r.share,
        startMs,
        endMs: epochMs(),
        phasesMs: r.phasesMs,
        transitions: r.transitions,
        routedGroups: r.routedGroups,
        cpuMs: (used.user + used.system) / 1000,
        mainThreadCpuMs: mainCpu === null || mainAfter === null ? null : mainAfter - mainCpu,
        loopDelayMaxMs: loopDelay.max / 1e6,
      });
    return r;
  };
  const repository = app.get(PrismaRepository) as unknown as { pool: Pool; sqlPool: Pool };
  const poolWaits = recordPoolWaits(repository.pool);
  const sqlPoolWaits = recordPoolWaits(repository.sqlPool);
  const gcPauses: GcPause[] = [];
  const gcObserver = observeGc(gcPauses);
  const served: BenchApp['served'] = [];
  app.getHttpServer().on('request', (_req: unknown, res: NodeJS.EventEmitter) => {
    const startMs = epochMs();
    res.once('finish', () => served.push({ startMs, endMs: epochMs() }));
  });
  await app.listen(0, '127.0.0.1');
  // Longer than any pause of the event loop, so a probe never reuses a socket the server just closed.
  (app.getHttpServer() as { keepAliveTimeout: number }).keepAliveTimeout = 65_000;
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return {
    base,
    shares: evaluator.shareCount,
    passSpacingMs: evaluator.passSpacingMs,
    evaluations,
    gcPauses,
    poolWaits,
    sqlPoolWaits,
    served,
    close: () => {
      gcObserver.disconnect();
      lag.stop();
      return app.close();
    },
  };
}

/**
 * Records how long each checkout of `pool` waited for a connection (pool.query checks out with a
 * callback, a transaction with the promise form), event-loop delay included. Until 2026-12-05 the
 * API's requests, the evaluator, the router and the delivery worker shared this pool; since then
 * the alerting's statements have a pool of their own and this one serves Prisma.
 */
function recordPoolWaits(pool: Pool): PoolWait[] {
  const waits: PoolWait[] = [];
  const connect = pool.connect.bind(pool) as (cb?: (...a: unknown[]) => void) => Promise<PoolClient> | void;
  const note = (startMs: number) => {
    const endMs = epochMs();
    if (endMs - startMs >= 1) waits.push({ startMs, endMs });
  };
  (pool as unknown as { connect: typeof connect }).connect = (cb?: (...a: unknown[]) => void) => {
    const startMs = epochMs();
    if (cb)
      return connect((...a: unknown[]) => {
        note(startMs);
        cb(...a);
      });
    return (connect() as Promise<PoolClient>).then((c) => {
      note(startMs);
      return c;
    });
  };
  // A new connection (a PostgreSQL backend started for it) marked as a wait of 0 ms with `opened`.
  pool.on('connect', () => waits.push({ startMs: epochMs(), endMs: epochMs(), opened: true }));
  return waits;
}

/** utime + stime of the calling thread (Linux; clock ticks of 10 ms), null elsewhere. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which is in parentheses and may hold spaces).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

function redis(url: string) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}
