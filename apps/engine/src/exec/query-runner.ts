// The micro-batch loop of one engine instance. Per trigger: apply control commands, plan each
// owned task's range (WAL first), read exactly that range, run the plan, make the output
// visible atomically with the task's marker, write the commit log, then publish one progress
// event. Ownership of tasks follows Kafka's group assignment (source partitions for stage 1,
// repartition-topic partitions = shuffle partitions for stage 2).
import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import {
  CONTROL_TOPIC,
  PROGRESS_TOPIC,
  checkpointScope,
  dlqTopic,
  engineGroupId,
  repartitionTopic,
} from '@sluice/contracts';
import { committedGroupOffsets, ensureTopics, offsetBounds } from '@sluice/kafka';
import {
  comparePlans,
  instantiate,
  type CompileResult,
  type QueryExecutor,
  type QuerySpec,
  type SourceSpec,
} from '@sluice/query-plan';
import type { CheckpointStore, OffsetLogEntry } from '../checkpoint/checkpoint-store';
import { CheckpointCorruptError } from '../checkpoint/checksum-frame';
import {
  continuePoint,
  offsetsJson,
  partitionKey,
  replays,
  withBacklog,
  type ReplaySet,
  type RowOrigin,
} from '../offsets/continue-offsets';
import { DataLossError, instanceShare, planBatch, type PartitionPosition } from '../offsets/offset-planner';
import { parseStartingOffsets, resolveStartingOffset } from '../offsets/starting-offsets';
import { buildProgress, type SourceTrigger, type StateTrigger } from '../progress/progress-builder';
import { ControlListener } from '../control/control-listener';
import { GroupReader, PartitionRevokedError } from '../source/group-reader';
import { toJsonRow, rowKey, type OutputColumn } from '../sinks/format-row';
import { BatchAlreadyCommittedError, committedBatch, ensureSinkTables } from '../sinks/postgres-table';
import { createPool } from '../pg/create-pool';
import { isDatabaseUnavailable } from '../pg/pg-errors';
import { OutageBackoff, retryWhileUnavailable } from './database-outage';
import { deadLetterMessage, outputRowDeadLetter } from './dead-letter';
import { DEFAULT_MAX_MESSAGE_BYTES, maxRecordBytes, readMaxMessageBytes } from './kafka-limits';
import { kafkaRowGuard, postgresRowGuard, type RowGuard } from './record-guards';
import { runShuffleStage } from './shuffle-stage';
import { runSourceStage, type ShuffledRow } from './source-stage';
import {
  fenceTasks,
  markerBatch,
  TaskCommitter,
  type MarkerKind,
  type PostgresTarget,
  type TaskBatchOutput,
} from './task-committer';
import { recoverTask, shuffleTaskId, sourceTaskId, type Stage, type TaskRuntime } from './task-runtime';

type Compiled = Extract<CompileResult, { ok: true }>;

export interface RunOptions {
  queryId: string;
  instanceId: string;
  queryVersion: number;
  compiled: Compiled;
  kafka: Kafka;
  checkpoint: CheckpointStore;
  rateLimit: number | null;
  sinkPostgresUrl: string | undefined;
  /**
   * Checkpoint lineage (0 = the query's first checkpoint): groups, repartition topic,
   * transactional ids and sink markers are named after checkpointScope(queryId, epoch).
   */
  checkpointEpoch?: number;
  /** Overrides the spec's startingOffsets for tasks with no checkpoint history. */
  startingOffsets?: 'earliest' | 'latest';
  /** A fresh checkpoint continuing where the checkpoint of `epoch` (opened as `store`) committed. */
  continueFrom?: { epoch: number; store: CheckpointStore };
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

/** Errors that must stop the engine (exit 1) instead of being retried. */
const FATAL = [DataLossError, CheckpointCorruptError];
const MAX_SHUFFLE_RECORDS_PER_BATCH = 200_000;
const IDLE_PROGRESS_INTERVAL_MS = 10_000;

interface TriggerStats {
  sources: Map<string, SourceTrigger>;
  eventTimes: number[];
  invalidRows: number;
  numOutputRows: number;
  state: StateTrigger | undefined;
  batchIds: number[];
  tasks: string[];
  ran: boolean;
  /** Why the trigger failed, when it did (reported in progress). */
  error?: string;
}

export class QueryRunner {
  private readonly spec: QuerySpec;
  private readonly executor: QueryExecutor;
  private readonly stateful: boolean;
  private readonly runId = randomUUID();
  private readonly tasks = new Map<string, TaskRuntime>();
  private readonly sourceByTopic = new Map<string, SourceSpec>();
  private readonly columns: OutputColumn[];
  /** Name of this checkpoint lineage (checkpointScope). */
  private readonly scope: string;
  /** First offsets of a continuing checkpoint (`topic:partition`), from the old checkpoint. */
  private continueOffsets: Map<string, number> | undefined;
  /** Source records below the old end read again for the old shuffle backlog (`topic:partition`). */
  private replay = new Map<string, ReplaySet>();
  /** A `pauseSources` command holds the source stage (the shuffle stage keeps running). */
  private sourcesPaused = false;
  private admin!: Admin;
  private progressProducer!: Producer;
  private sourceReader!: GroupReader;
  private shuffleReader: GroupReader | undefined;
  private control!: ControlListener;
  private pool: Pool | undefined;
  private postgres: PostgresTarget | undefined;
  private rateLimit: number | null;
  private stopping = false;
  private stopReason = '';
  private fatal: Error | undefined;
  private wake: (() => void) | undefined;
  private acked: string[] = [];
  private previousTriggerStartMs: number | undefined;
  private lastProgressMs = 0;
  private lastTriggerMs = 0;
  private lastBatchId = 0;
  private consecutiveFailures = 0;
  /** An unreachable database: triggers back off instead of counting as failures. */
  private readonly outage = new OutageBackoff();
  private retryAfterMs = 0;
  /** max.message.bytes of every topic the engine writes (DLQ, repartition, Kafka sink). */
  private topicLimits = new Map<string, number>();
  /** The sink's per-row checks (undefined for the console sink). */
  private guard: RowGuard | undefined;

  constructor(private readonly opts: RunOptions) {
    this.spec = opts.compiled.spec;
    this.executor = instantiate(opts.compiled.plan);
    this.stateful = this.executor.kind !== 'stateless';
    this.columns = this.executor.output;
    this.rateLimit = opts.rateLimit ?? this.spec.options.maxOffsetsPerTrigger ?? null;
    this.scope = checkpointScope(opts.queryId, opts.checkpointEpoch ?? 0);
    for (const s of Object.values(this.spec.sources)) this.sourceByTopic.set(s.kafka.topic, s);
  }

  private get sourceGroup(): string {
    return engineGroupId(this.scope);
  }

  private get shuffleGroup(): string {
    return `${engineGroupId(this.scope)}-shuffle`;
  }

  /** Requests a clean stop: the running trigger finishes and commits first. */
  stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stopReason = reason;
    this.wake?.();
  }

  async run(): Promise<void> {
    await this.prepare();
    try {
      await this.loop();
    } finally {
      await this.shutdown();
    }
    if (this.fatal) throw this.fatal;
  }

  private async prepare(): Promise<void> {
    const { kafka, checkpoint, queryId, compiled } = this.opts;
    const n = this.spec.options.numShufflePartitions;
    const waitFor = <T>(what: string, work: () => Promise<T>): Promise<T> =>
      retryWhileUnavailable(work, {
        what,
        warn: (m) => this.opts.log('warn', m),
        stopped: () => this.stopping,
      });
    const meta = await waitFor('checkpoint database', () =>
      checkpoint.initMetadata({
        queryId,
        created: new Date().toISOString(),
        planHash: compiled.planHash,
        numShufflePartitions: n,
      }),
    );
    if (meta.queryId !== queryId)
      throw new Error(`checkpoint ${checkpoint.location} belongs to query ${meta.queryId}, not ${queryId}`);
    if (meta.numShufflePartitions !== n) {
      throw new Error(
        `checkpoint ${checkpoint.location} was created with numShufflePartitions=${meta.numShufflePartitions}; the spec asks for ${n}, which cannot change for an existing checkpoint`,
      );
    }
    const versions = await waitFor('checkpoint database', () => checkpoint.planVersions());
    const previous = versions.filter((v) => v !== this.opts.queryVersion).at(-1);
    if (previous !== undefined) {
      const stored = await waitFor('checkpoint database', () => checkpoint.readPlan(previous));
      // Stored as { plan, planHash } (below); a bare plan is accepted too.
      const before = (
        stored && typeof stored === 'object' && 'plan' in stored ? stored.plan : stored
      ) as Compiled['plan'];
      const verdict = comparePlans(before, compiled.plan);
      if (!verdict.compatible)
        throw new Error(
          `version ${this.opts.queryVersion} is not compatible with the checkpoint (written by version ${previous}): ${verdict.reasons.join('; ')}`,
        );
    }
    await waitFor('checkpoint database', () =>
      checkpoint.writePlan(this.opts.queryVersion, { plan: compiled.plan, planHash: compiled.planHash }),
    );

    this.admin = kafka.admin();
    await this.admin.connect();
    const topics = [
      { topic: PROGRESS_TOPIC, numPartitions: 3 },
      { topic: CONTROL_TOPIC, numPartitions: 1 },
      { topic: dlqTopic(queryId), numPartitions: 1 },
    ];
    if (this.stateful) topics.push({ topic: repartitionTopic(this.scope), numPartitions: n });
    if ('kafka' in this.spec.sink) topics.push({ topic: this.spec.sink.kafka.topic, numPartitions: 3 });
    await ensureTopics(this.admin, topics);
    this.topicLimits = await readMaxMessageBytes(
      this.admin,
      topics.filter((t) => t.topic !== PROGRESS_TOPIC && t.topic !== CONTROL_TOPIC).map((t) => t.topic),
    );
    for (const topic of this.sourceByTopic.keys()) {
      if (!(await this.admin.listTopics()).includes(topic))
        this.opts.log('warn', `source topic ${topic} does not exist yet; waiting for it`);
    }
    if ('postgres' in this.spec.sink) {
      if (!this.opts.sinkPostgresUrl)
        throw new Error(
          'the spec has a postgres sink: set SLUICE_SINK_POSTGRES_URL for the engine (the control plane passes the resolved sink connection)',
        );
      const pool = createPool(this.opts.sinkPostgresUrl, 'sink', (m) => this.opts.log('warn', m));
      this.pool = pool;
      const { table, key } = this.spec.sink.postgres;
      await waitFor('sink database', () => ensureSinkTables(pool, table, this.columns, key));
      this.postgres = { pool, table, columns: this.columns, key };
      this.guard = postgresRowGuard(this.columns, key);
    } else if ('kafka' in this.spec.sink) {
      const topic = this.spec.sink.kafka.topic;
      this.guard = kafkaRowGuard(topic, (row) => this.kafkaSinkMessage(row), this.topicLimit(topic));
    }
    if (this.opts.continueFrom) await this.loadContinuePoint(this.opts.continueFrom, waitFor);
    this.progressProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.progressProducer.connect();

    this.control = new ControlListener(
      kafka,
      queryId,
      this.opts.instanceId,
      (m) => this.opts.log('warn', m),
      () => this.wake?.(),
    );

    const onFatal = (err: Error): void => {
      this.fatal = err;
      this.stop(`consumer crashed: ${err.message}`);
    };
    this.sourceReader = new GroupReader(kafka, {
      groupId: this.sourceGroup,
      topics: [...this.sourceByTopic.keys()],
      onFatal,
      onRebalance: (a, g) => this.onRebalance('source', a.length, g),
    });
    if (this.stateful) {
      this.shuffleReader = new GroupReader(kafka, {
        groupId: this.shuffleGroup,
        topics: [repartitionTopic(this.scope)],
        onFatal,
        onRebalance: (a, g) => this.onRebalance('shuffle', a.length, g),
      });
    }
    // Side by side: each is a round of Kafka's group protocol, and a replacement instance (an
    // upgrade) is not processing until all three have joined.
    await Promise.all([this.control.start(), this.sourceReader.start(), this.shuffleReader?.start()]);
    this.opts.log('info', 'engine started', {
      runId: this.runId,
      stateful: this.stateful,
      rateLimit: this.rateLimit,
      planHash: compiled.planHash,
    });
  }

  /**
   * Where this lineage starts: fixed in its own checkpoint on its first start (from where the old
   * checkpoint stopped, continuePoint) and read from there afterwards. The old store is closed.
   */
  private async loadContinuePoint(
    from: { epoch: number; store: CheckpointStore },
    waitFor: <T>(what: string, work: () => Promise<T>) => Promise<T>,
  ): Promise<void> {
    const fixed = await waitFor('checkpoint database', () => this.opts.checkpoint.readStartOffsets());
    if (fixed) {
      await from.store.close().catch(() => undefined);
      this.continueOffsets = new Map(Object.entries(fixed.offsets));
      this.replay = new Map(Object.entries(fixed.replay ?? {}));
      return;
    }
    const oldScope = checkpointScope(this.opts.queryId, from.epoch);
    const visible = async (task: string, wal: OffsetLogEntry): Promise<boolean> => {
      // Whichever marker the old version used: the group offset committed in its batch
      // transaction (Kafka outputs) or its row in sink_commits (a PostgreSQL sink).
      const groupId = task.startsWith('src.')
        ? engineGroupId(oldScope)
        : `${engineGroupId(oldScope)}-shuffle`;
      const group = await committedGroupOffsets(this.admin, groupId, [wal.range.topic]);
      const meta = group.get(`${wal.range.topic}:${wal.range.partition}`)?.metadata ?? '';
      if ((markerBatch(meta) ?? -1) >= wal.batchId) return true;
      if (!this.pool) return false;
      // Unreadable marker = not visible: the batch is replayed, which the sink's idempotence absorbs.
      const batch = await committedBatch(this.pool, oldScope, task).catch((e: Error) => {
        this.opts.log('warn', `could not read the old checkpoint's sink marker of ${task}: ${e.message}`);
        return undefined;
      });
      return batch !== undefined && batch >= wal.batchId;
    };
    try {
      // The old lineage no longer runs (the upgrade drained or killed it); fencing its tasks'
      // producers completes any transaction a killed instance left open, so the markers and the
      // repartition topic's end read below are final.
      const oldTasks = await waitFor('checkpoint database', () => from.store.tasks());
      await fenceTasks(this.opts.kafka, oldScope, oldTasks);
      const point = await waitFor('checkpoint database', () => continuePoint(from.store, visible));
      const backlog = oldTasks.some((t) => t.startsWith('shuffle.'))
        ? await this.readShuffleBacklog(oldScope, point.shuffle)
        : { origins: [], rows: 0, withoutOrigin: 0 };
      const folded = withBacklog(point.offsets, backlog.origins);
      const start = await waitFor('checkpoint database', () =>
        this.opts.checkpoint.initStartOffsets({
          continuedFrom: from.epoch,
          offsets: Object.fromEntries(folded.offsets),
          ...(folded.replay.size > 0 ? { replay: Object.fromEntries(folded.replay) } : {}),
        }),
      );
      this.continueOffsets = new Map(Object.entries(start.offsets));
      this.replay = new Map(Object.entries(start.replay ?? {}));
      if (backlog.withoutOrigin > 0)
        this.opts.log(
          'warn',
          `${backlog.withoutOrigin} row(s) of the old shuffle backlog carry no origin (written by an engine before origins were recorded): they are in neither checkpoint`,
        );
      this.opts.log('info', `continuing from checkpoint epoch ${from.epoch} (${from.store.location})`, {
        startingOffsets: offsetsJson(this.continueOffsets),
        ...(point.replanned.length > 0 ? { replannedTasks: point.replanned } : {}),
        ...(backlog.rows > 0
          ? {
              shuffleBacklogRows: backlog.rows,
              replayedRecords: [...this.replay.values()].reduce(
                (n, r) => n + r.ranges.reduce((m, [a, b]) => m + b - a, 0),
                0,
              ),
            }
          : {}),
      });
    } finally {
      // Read-only use of the old checkpoint is over; a failing close leaks nothing we still need.
      await from.store
        .close()
        .catch((e: Error) => this.opts.log('warn', `closing the old checkpoint: ${e.message}`));
    }
  }

  /**
   * The rows of the old repartition topic its shuffle stage never aggregated in a visible batch:
   * read (read_committed) from each partition's old shuffle position to its end by a reader of
   * its own (a group named after this run, deleted afterwards), keeping only their origins.
   */
  private async readShuffleBacklog(
    oldScope: string,
    positions: Map<number, number>,
  ): Promise<{ origins: RowOrigin[]; rows: number; withoutOrigin: number }> {
    const topic = repartitionTopic(oldScope);
    if (!(await this.admin.listTopics()).includes(topic)) return { origins: [], rows: 0, withoutOrigin: 0 };
    const bounds = await offsetBounds(this.admin, topic);
    const ranges = [...bounds]
      .map(([partition, b]) => ({
        partition,
        start: Math.max(positions.get(partition) ?? b.earliest, b.earliest),
        end: b.latest,
      }))
      .filter((r) => r.end > r.start);
    const out = { origins: [] as RowOrigin[], rows: 0, withoutOrigin: 0 };
    if (ranges.length === 0) return out;
    const groupId = `${engineGroupId(this.scope)}-backlog-${this.runId}`;
    const reader = new GroupReader(this.opts.kafka, { groupId, topics: [topic] });
    try {
      await reader.start();
      await reader.waitForAssignment();
      for (const r of ranges) {
        for (const record of await reader.read(topic, r.partition, r.start, r.end)) {
          out.rows++;
          const o = (JSON.parse(record.value?.toString('utf8') ?? 'null') as ShuffledRow | null)?.o;
          if (Array.isArray(o) && o.length === 3)
            out.origins.push({ topic: String(o[0]), partition: Number(o[1]), offset: Number(o[2]) });
          else out.withoutOrigin++;
        }
      }
    } finally {
      await reader.stop().catch(() => undefined);
      await this.admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return out;
  }

  private onRebalance(stage: Stage, partitions: number, generation: number): void {
    this.opts.log('info', `${stage} group assignment: ${partitions} partition(s)`, { generation });
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const trigger = this.spec.trigger;
    const intervalMs = 'processingTimeMs' in trigger ? trigger.processingTimeMs : 0;
    while (!this.stopping) {
      const started = Date.now();
      const stats = await this.trigger();
      if (this.stopping) break;
      if ('once' in trigger) return this.stop('trigger once: done');
      if (
        'availableNow' in trigger &&
        !stats.ran &&
        this.tasks.size > 0 &&
        [...this.tasks.values()].every((t) => !t.replay)
      ) {
        return this.stop('trigger availableNow: no more data');
      }
      const wait = Math.max(
        intervalMs - (Date.now() - started),
        stats.ran ? 0 : Math.max(intervalMs, 200) - (Date.now() - started),
        this.retryAfterMs - (Date.now() - started),
      );
      if (wait > 0)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      this.wake = undefined;
    }
  }

  private applyCommands(): void {
    for (const c of this.control.take()) {
      if (c.type === 'setRateLimit') {
        this.rateLimit = c.maxOffsetsPerTrigger;
        this.opts.log('info', `rate limit set to ${c.maxOffsetsPerTrigger ?? 'unlimited'}`, {
          commandId: c.commandId,
        });
      } else if (c.type === 'pauseSources' || c.type === 'resumeSources') {
        this.sourcesPaused = c.type === 'pauseSources';
        this.opts.log('info', this.sourcesPaused ? 'source stage paused' : 'source stage resumed', {
          commandId: c.commandId,
        });
      } else {
        this.opts.log('info', 'drain requested', { commandId: c.commandId });
        this.stop('drain command');
      }
      this.acked.push(c.commandId);
    }
  }

  private async trigger(): Promise<TriggerStats> {
    const startMs = Date.now();
    const durations: Record<string, number> = {};
    const stats: TriggerStats = {
      sources: new Map(),
      eventTimes: [],
      invalidRows: 0,
      numOutputRows: 0,
      state: undefined,
      batchIds: [],
      tasks: [],
      ran: false,
    };
    this.applyCommands();
    try {
      let t = Date.now();
      await this.syncTasks();
      const bounds = new Map<string, Map<number, { earliest: number; latest: number }>>();
      for (const topic of new Set([...this.tasks.values()].map((r) => r.topic)))
        bounds.set(topic, await offsetBounds(this.admin, topic));
      durations.latestOffset = Date.now() - t;
      t = Date.now();
      const plans = this.planTasks(bounds, startMs);
      durations.queryPlanning = Date.now() - t;
      // Tasks are independent (own range, producer, marker, state): run them concurrently so a
      // trigger costs one transaction round-trip, not one per owned partition.
      const results = await Promise.allSettled(
        plans.map(([task, entry]) => this.runTask(task, entry, stats, durations)),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      this.consecutiveFailures = 0;
      this.retryAfterMs = 0;
      const outage = this.outage.recover(Date.now());
      if (outage !== undefined)
        this.opts.log(
          'warn',
          `database reachable again after ${Math.round(outage / 1000)} s; processing resumed`,
        );
    } catch (err) {
      const e = err as Error;
      stats.error = e.message.slice(0, 500);
      if (isDatabaseUnavailable(e)) {
        // Waited out, not counted: the outage is not this batch's fault, and the batch re-runs
        // from its write-ahead log entry once the database answers.
        this.retryAfterMs = this.outage.fail(Date.now());
        this.opts.log(
          'warn',
          `database unreachable (${e.message}); retrying in ${(this.retryAfterMs / 1000).toFixed(1)} s`,
          {
            outageSeconds: Math.round(this.outage.elapsedMs(Date.now()) / 1000),
          },
        );
      } else if (FATAL.some((f) => e instanceof f)) {
        this.fatal = e;
        this.stop(e.message);
      } else if (++this.consecutiveFailures >= 5) {
        this.fatal = new Error(`5 consecutive triggers failed; last error: ${e.message}`);
        this.stop(this.fatal.message);
      } else {
        this.opts.log('warn', `trigger failed (will retry): ${e.message}`);
      }
    }
    durations.triggerExecution = Date.now() - startMs;
    await this.report(stats, startMs, durations);
    return stats;
  }

  /** Creates runtimes for newly assigned partitions and drops revoked ones. */
  private async syncTasks(): Promise<void> {
    const wanted = new Map<string, { stage: Stage; topic: string; partition: number }>();
    for (const tp of this.sourceReader.assignment())
      wanted.set(sourceTaskId(tp.topic, tp.partition), { stage: 'source', ...tp });
    for (const tp of this.shuffleReader?.assignment() ?? [])
      wanted.set(shuffleTaskId(tp.partition), { stage: 'shuffle', ...tp });
    for (const [id, rt] of this.tasks) {
      if (!wanted.has(id)) await this.dropTask(rt, 'revoked');
    }
    // New tasks are recovered side by side (each opens its own transactional producer, which
    // fences the previous owner, and reads its own checkpoint files): after a start or a
    // rebalance the first batch waits for the slowest task, not for all of them in turn.
    const recovered = await Promise.allSettled(
      [...wanted].filter(([id]) => !this.tasks.has(id)).map(([id, w]) => this.recover(id, w)),
    );
    const failed = recovered.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Takes over one task: opens its committer (fencing the previous owner) and recovers it from the checkpoint. */
  private async recover(id: string, w: { stage: Stage; topic: string; partition: number }): Promise<void> {
    const marker = this.markerFor(w.stage);
    const committer = new TaskCommitter(
      this.opts.kafka,
      this.scope,
      id,
      marker,
      w.stage === 'source' ? this.sourceGroup : this.shuffleGroup,
      this.opts.checkpoint,
      this.postgres,
      this.topicLimits,
    );
    const rt = await recoverTask({
      checkpoint: this.opts.checkpoint,
      admin: this.admin,
      committer,
      stage: w.stage,
      topic: w.topic,
      partition: w.partition,
      stateOperator: w.stage === 'shuffle' ? this.executor.kind : undefined,
      watermarkDelayMs: w.stage === 'shuffle' ? this.watermarkDelayMs() : undefined,
    });
    if (rt.replay)
      this.opts.log(
        'info',
        `task ${id}: re-running uncommitted batch ${rt.replay.batchId} [${rt.replay.range.start}, ${rt.replay.range.end})`,
      );
    this.tasks.set(id, rt);
  }

  private watermarkDelayMs(): number | undefined {
    for (const s of this.sourceByTopic.values()) if (s.watermark) return s.watermark.delayMs;
    return undefined;
  }

  private markerFor(stage: Stage): MarkerKind {
    if (stage === 'source' && this.stateful) return 'kafka-group'; // output = repartition topic
    if ('kafka' in this.spec.sink) return 'kafka-group';
    if ('postgres' in this.spec.sink) return 'postgres';
    return 'checkpoint';
  }

  private async dropTask(rt: TaskRuntime, why: string): Promise<void> {
    this.tasks.delete(rt.task);
    rt.state?.abort();
    // Maintenance (compaction) is an optimisation the next owner of the task redoes; losing it is safe.
    await rt.state
      ?.flushMaintenance()
      .catch((e: Error) =>
        this.opts.log('warn', `task ${rt.task}: state maintenance not flushed: ${e.message}`),
      );
    await rt.committer.close();
    this.opts.log('info', `task ${rt.task} released (${why})`);
  }

  /** Plans (or re-plans) every task's next batch. Only tasks with work are returned. */
  private planTasks(
    bounds: Map<string, Map<number, { earliest: number; latest: number }>>,
    nowMs: number,
  ): Array<[TaskRuntime, OffsetLogEntry]> {
    const out: Array<[TaskRuntime, OffsetLogEntry]> = [];
    const positions: PartitionPosition[] = [];
    const fresh = new Map<string, TaskRuntime>();
    for (const rt of this.tasks.values()) {
      if (rt.replay) {
        out.push([rt, rt.replay]);
        continue;
      }
      const b = bounds.get(rt.topic)?.get(rt.partition);
      if (!b) continue;
      // A paused source stage plans nothing new (an already planned batch above still runs).
      if (rt.stage === 'source' && this.sourcesPaused) continue;
      if (rt.nextStart === undefined) {
        rt.nextStart = rt.stage === 'source' ? this.firstOffset(rt.topic, rt.partition, b) : b.earliest;
      }
      const pos = {
        topic: rt.topic,
        partition: rt.partition,
        start: rt.nextStart,
        earliest: b.earliest,
        latest: b.latest,
      };
      if (rt.stage === 'source') {
        positions.push(pos);
        fresh.set(`${rt.topic}:${rt.partition}`, rt);
      } else {
        const end = Math.min(b.latest, pos.start + MAX_SHUFFLE_RECORDS_PER_BATCH);
        const wm = rt.watermark?.watermarkMs ?? 0;
        // A no-data batch is worth running when the watermark moved: it evicts (and, in append
        // mode, emits) state that just expired, as Spark's no-data micro-batches do.
        if (end > pos.start || wm > rt.lastBatchWatermarkMs)
          out.push([rt, this.entry(rt, { ...pos, end }, wm, nowMs)]);
      }
    }
    if (positions.length > 0) {
      const total = [...this.sourceByTopic.keys()].reduce(
        (n, topic) => n + (bounds.get(topic)?.size ?? 0),
        0,
      );
      const plan = planBatch({
        positions,
        limits: {
          maxOffsetsPerTrigger: instanceShare(this.rateLimit, positions.length, total),
          minOffsetsPerTrigger: this.spec.options.minOffsetsPerTrigger ?? null,
          maxTriggerDelayMs: this.spec.options.maxTriggerDelayMs ?? 15 * 60_000,
        },
        failOnDataLoss: this.spec.options.failOnDataLoss,
        nowMs,
        lastTriggerMs: this.lastTriggerMs,
      });
      for (const loss of plan.dataLoss)
        this.opts.log('warn', loss.message, { lostOffsets: loss.lostOffsets });
      if (plan.kind === 'run') {
        this.lastTriggerMs = nowMs;
        for (const r of plan.ranges) {
          const rt = fresh.get(`${r.topic}:${r.partition}`);
          if (rt && r.end > r.start) out.push([rt, this.entry(rt, r, 0, nowMs)]);
          else if (rt && r.start !== rt.nextStart) rt.nextStart = r.start; // skipped lost offsets
        }
      }
    }
    return out;
  }

  /** Where a source partition with no checkpoint history starts. */
  private firstOffset(topic: string, partition: number, b: { earliest: number; latest: number }): number {
    // Continuing: where the old checkpoint stopped; a partition it never read from its start.
    if (this.continueOffsets) return this.continueOffsets.get(partitionKey(topic, partition)) ?? b.earliest;
    const configured = this.opts.startingOffsets ?? this.sourceByTopic.get(topic)?.kafka.startingOffsets;
    return resolveStartingOffset(parseStartingOffsets(configured), topic, partition, b.earliest, b.latest);
  }

  private entry(
    rt: TaskRuntime,
    r: { topic: string; partition: number; start: number; end: number },
    watermarkMs: number,
    nowMs: number,
  ): OffsetLogEntry {
    return {
      batchId: rt.nextBatchId,
      range: { topic: r.topic, partition: r.partition, start: r.start, end: r.end },
      watermarkMs,
      batchTimestampMs: nowMs,
      planVersion: this.opts.queryVersion,
    };
  }

  private async runTask(
    rt: TaskRuntime,
    planned: OffsetLogEntry,
    stats: TriggerStats,
    durations: Record<string, number>,
  ): Promise<void> {
    // Tasks run concurrently: a phase's duration is the slowest task's, like a Spark stage.
    const add = (k: string, ms: number): void => {
      durations[k] = Math.max(durations[k] ?? 0, ms);
    };
    let t = Date.now();
    // Create-exclusive: if another owner already planned this batch, its plan wins.
    const entry = await this.opts.checkpoint.writeOffsets(rt.task, planned);
    add('walCommit', Date.now() - t);
    t = Date.now();
    try {
      const reader = rt.stage === 'source' ? this.sourceReader : this.shuffleReader!;
      const read =
        entry.range.end > entry.range.start
          ? await reader.read(rt.topic, rt.partition, entry.range.start, entry.range.end)
          : [];
      // Below the old lineage's end a continuing lineage reads only the old shuffle backlog's
      // records again; the rest were the old version's (deterministic: the replay set is fixed).
      const replay =
        rt.stage === 'source' ? this.replay.get(partitionKey(rt.topic, rt.partition)) : undefined;
      const records =
        replay && entry.range.start < replay.until ? read.filter((r) => replays(replay, r.offset)) : read;
      add('getBatch', Date.now() - t);
      t = Date.now();
      const output: TaskBatchOutput = { kafka: [], pgRows: [], consoleLines: [] };
      const dlq = dlqTopic(this.opts.queryId);
      const dlqMax = maxRecordBytes(this.topicLimit(dlq));
      let maxEventTimeMs: number | null = null;
      if (rt.stage === 'source') {
        const source = this.sourceByTopic.get(rt.topic)!;
        const repartition = repartitionTopic(this.scope);
        const res = runSourceStage({
          queryId: this.opts.queryId,
          source,
          executor: this.executor,
          numShufflePartitions: this.spec.options.numShufflePartitions,
          records,
          guard: this.guard,
          repartition: this.stateful
            ? { topic: repartition, maxMessageBytes: this.topicLimit(repartition) }
            : undefined,
          dlqMaxRecordBytes: dlqMax,
        });
        stats.invalidRows += res.invalidRows;
        stats.eventTimes.push(...res.eventTimes);
        this.recordSource(stats, entry, records.length);
        output.kafka.push({ topic: dlq, messages: res.deadLetters });
        if (this.stateful) output.kafka.push({ topic: repartition, messages: res.shuffled });
        else
          this.toSink(res.rows, output, stats, (i, reason) =>
            deadLetterMessage(this.opts.queryId, res.origins[i]!, reason, dlqMax, 'output'),
          );
      } else {
        const state = rt.state!;
        const wm = entry.watermarkMs;
        const res = runShuffleStage({
          executor: this.executor,
          outputMode: this.spec.outputMode,
          state,
          records,
          watermarkMs: wm,
          watermarkEnabled: rt.watermark !== undefined,
        });
        if (res.maxEventTimeMs !== undefined) rt.watermark?.observe('rows', res.maxEventTimeMs);
        maxEventTimeMs = res.maxEventTimeMs ?? null;
        // Output rows are checked again here: aggregate values (a max() over text, say) are only
        // known now. A refused row is a dead letter carrying the row itself.
        const batch = { task: rt.task, batchId: entry.batchId };
        const dead: Message[] = [
          ...res.failedRecords.map((f) => deadLetterMessage(this.opts.queryId, f.record, f.reason, dlqMax)),
          ...res.failedGroups.map((f) =>
            outputRowDeadLetter(this.opts.queryId, batch, f.row, f.reason, dlqMax),
          ),
        ];
        const rows: Array<Record<string, unknown>> = [];
        for (const row of res.rows) {
          const refused = this.guard?.(row);
          if (refused)
            dead.push(
              outputRowDeadLetter(this.opts.queryId, batch, toJsonRow(row, this.columns), refused, dlqMax),
            );
          else rows.push(row);
        }
        stats.invalidRows += dead.length;
        output.kafka.push({ topic: dlq, messages: dead });
        this.toSink(rows, output, stats, (i, reason) =>
          outputRowDeadLetter(this.opts.queryId, batch, toJsonRow(rows[i]!, this.columns), reason, dlqMax),
        );
        const c = Date.now();
        const m = await state.commit(entry.batchId);
        this.recordState(stats, m, res, Date.now() - c);
      }
      add('addBatch', Date.now() - t);
      t = Date.now();
      const committed = await rt.committer.commit(entry, output);
      if (committed.refusedRows > 0) {
        stats.invalidRows += committed.refusedRows;
        this.opts.log(
          'warn',
          `task ${rt.task} batch ${entry.batchId}: PostgreSQL refused ${committed.refusedRows} row(s) for their data; sent to ${dlq}`,
        );
      }
      if (rt.committer.marker !== 'kafka-group' && rt.stage === 'source') {
        // Keeps the group's lag meaningful for sinks whose marker lives elsewhere.
        await this.sourceReader
          .commit([{ topic: rt.topic, partition: rt.partition, offset: entry.range.end }])
          // Only the lag shown to operators depends on it (exactly-once rests on the sink's marker);
          // the next batch commits a later offset anyway.
          .catch((e: Error) => this.opts.log('warn', `group offset for lag not committed: ${e.message}`));
      }
      const prevCommit =
        entry.batchId > 0 ? await this.opts.checkpoint.readCommit(rt.task, entry.batchId - 1) : undefined;
      await this.opts.checkpoint.writeCommit(rt.task, {
        batchId: entry.batchId,
        maxEventTimeMs: maxEventTimeMs ?? prevCommit?.maxEventTimeMs ?? null,
        committedAt: new Date().toISOString(),
      });
      add('commitOffsets', Date.now() - t);
      rt.replay = undefined;
      rt.nextStart = entry.range.end;
      rt.nextBatchId = entry.batchId + 1;
      rt.lastBatchWatermarkMs = entry.watermarkMs;
      if (rt.watermark) rt.watermark.advance();
      stats.ran = true;
      stats.batchIds.push(entry.batchId);
      stats.tasks.push(rt.task);
      if (entry.batchId % 10 === 0 && entry.batchId >= 100)
        await this.opts.checkpoint.purgeBatches(rt.task, entry.batchId - 99);
    } catch (err) {
      rt.watermark?.discardBatch();
      if (err instanceof PartitionRevokedError) {
        await this.dropTask(rt, 'revoked during batch');
        return;
      }
      if (err instanceof BatchAlreadyCommittedError) {
        // Another owner got there first (we lost the partition and have not heard yet): nothing
        // of ours landed. Recover from the marker on the next trigger if we still own the task.
        await this.dropTask(rt, err.message);
        return;
      }
      // Anything else: forget the in-memory task; it is recovered from the checkpoint and its
      // marker on the next trigger (or by the next owner), re-running this batch if needed.
      await this.dropTask(rt, `batch ${entry.batchId} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /**
   * `deadLetter(i, reason)`: the dead letter for rows[i] should the sink refuse it. Called once
   * per batch, so rows[i] is output.pgRows[i].
   */
  private toSink(
    rows: Array<Record<string, unknown>>,
    output: TaskBatchOutput,
    stats: TriggerStats,
    deadLetter: (index: number, reason: string) => Message,
  ): void {
    stats.numOutputRows += rows.length;
    const sink = this.spec.sink;
    if ('kafka' in sink) {
      output.kafka.push({ topic: sink.kafka.topic, messages: rows.map((row) => this.kafkaSinkMessage(row)) });
    } else if ('postgres' in sink) {
      output.pgRows.push(...rows);
      output.pgRefused = { topic: dlqTopic(this.opts.queryId), deadLetter };
    } else {
      for (const row of rows) output.consoleLines.push(JSON.stringify(toJsonRow(row, this.columns)));
    }
  }

  private kafkaSinkMessage(row: Record<string, unknown>): Message {
    const key = 'kafka' in this.spec.sink ? this.spec.sink.kafka.key : undefined;
    return { key: rowKey(row, key) ?? null, value: JSON.stringify(toJsonRow(row, this.columns)) };
  }

  private topicLimit(topic: string): number {
    return this.topicLimits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  private recordSource(stats: TriggerStats, entry: OffsetLogEntry, rows: number): void {
    const { topic, partition, start, end } = entry.range;
    let s = stats.sources.get(topic);
    if (!s) {
      s = { topic, start: {}, end: {}, latest: {}, numInputRows: 0 };
      stats.sources.set(topic, s);
    }
    s.start[String(partition)] = start;
    s.end[String(partition)] = end;
    s.numInputRows += rows;
  }

  private recordState(
    stats: TriggerStats,
    m: {
      numRowsTotal: number;
      numRowsUpdated: number;
      numRowsRemoved: number;
      memoryUsedBytes: number;
      commitTimeMs: number;
    },
    res: { numRowsDroppedByWatermark: number; updateTimeMs: number; removalTimeMs: number },
    commitMs: number,
  ): void {
    const s = (stats.state ??= {
      numRowsTotal: 0,
      numRowsUpdated: 0,
      numRowsRemoved: 0,
      allUpdatesTimeMs: 0,
      allRemovalsTimeMs: 0,
      commitTimeMs: 0,
      memoryUsedBytes: 0,
      numRowsDroppedByWatermark: 0,
      numShufflePartitions: this.spec.options.numShufflePartitions,
      numStateStoreInstances: 0,
    });
    s.numRowsUpdated += m.numRowsUpdated;
    s.numRowsRemoved += m.numRowsRemoved;
    s.allUpdatesTimeMs += res.updateTimeMs;
    s.allRemovalsTimeMs += res.removalTimeMs;
    s.commitTimeMs += commitMs;
    s.numRowsDroppedByWatermark += res.numRowsDroppedByWatermark;
  }

  private async report(
    stats: TriggerStats,
    startMs: number,
    durations: Record<string, number>,
  ): Promise<void> {
    const now = Date.now();
    // While paused every trigger reports: the control plane waits for the shuffle backlog to reach 0.
    if (
      !stats.ran &&
      !this.sourcesPaused &&
      now - this.lastProgressMs < IDLE_PROGRESS_INTERVAL_MS &&
      this.acked.length === 0
    )
      return;
    // Latest offsets and the state totals cover every owned task, not only those that ran.
    for (const rt of this.tasks.values()) {
      if (rt.stage !== 'source') continue;
      const s = stats.sources.get(rt.topic) ?? {
        topic: rt.topic,
        start: {},
        end: {},
        latest: {},
        numInputRows: 0,
      };
      stats.sources.set(rt.topic, s);
      const p = String(rt.partition);
      if (s.end[p] === undefined && rt.nextStart !== undefined) {
        s.start[p] = rt.nextStart;
        s.end[p] = rt.nextStart;
      }
    }
    for (const topic of stats.sources.keys()) {
      // Progress then reports the end offsets as latest (no lag figure this batch) rather than failing.
      const b = await offsetBounds(this.admin, topic).catch(() => undefined);
      const s = stats.sources.get(topic)!;
      for (const p of Object.keys(s.end)) s.latest[p] = b?.get(Number(p))?.latest ?? s.end[p]!;
    }
    const stores = [...this.tasks.values()].filter((t) => t.state);
    if (stores.length > 0) {
      const s = stats.state ?? {
        numRowsTotal: 0,
        numRowsUpdated: 0,
        numRowsRemoved: 0,
        allUpdatesTimeMs: 0,
        allRemovalsTimeMs: 0,
        commitTimeMs: 0,
        memoryUsedBytes: 0,
        numRowsDroppedByWatermark: 0,
        numShufflePartitions: this.spec.options.numShufflePartitions,
        numStateStoreInstances: 0,
      };
      s.numRowsTotal = stores.reduce((n, t) => n + (t.state?.size ?? 0), 0);
      s.memoryUsedBytes = stores.reduce((n, t) => n + (t.state?.metrics().memoryUsedBytes ?? 0), 0);
      s.numStateStoreInstances = stores.length;
      stats.state = s;
    }
    const watermarks = [...this.tasks.values()]
      .map((t) => t.watermark?.watermarkMs)
      .filter((w): w is number => w !== undefined && w > 0);
    if (stats.batchIds.length > 0) this.lastBatchId = Math.max(...stats.batchIds);
    const progress = buildProgress({
      queryId: this.opts.queryId,
      runId: this.runId,
      name: this.spec.name,
      batchId: this.lastBatchId,
      triggerStartMs: startMs,
      previousTriggerStartMs: this.previousTriggerStartMs,
      durationMs: durations,
      eventTimes: stats.eventTimes,
      watermarkMs:
        watermarks.length > 0
          ? Math.min(...watermarks)
          : this.watermarkDelayMs() !== undefined
            ? 0
            : undefined,
      sources: [...stats.sources.values()],
      state: stats.state,
      operatorName: this.executor.kind === 'dedupe' ? 'dedupe' : 'stateStoreSave',
      sinkDescription: this.sinkDescription(),
      numOutputRows: stats.numOutputRows,
      sluice: {
        queryVersion: this.opts.queryVersion,
        instance: this.opts.instanceId,
        rateLimit: this.rateLimit,
        invalidRows: stats.invalidRows,
        ackedCommands: this.acked.splice(0),
        tasks: stats.tasks,
        checkpointEpoch: this.opts.checkpointEpoch ?? 0,
        ...(stats.error !== undefined ? { error: stats.error } : {}),
        ...(this.sourcesPaused
          ? { sourcesPaused: true, ...(this.stateful ? { shuffleBacklog: await this.shuffleBacklog() } : {}) }
          : {}),
      },
    });
    this.previousTriggerStartMs = startMs;
    this.lastProgressMs = now;
    await this.progressProducer
      .send({
        topic: PROGRESS_TOPIC,
        messages: [{ key: this.opts.queryId, value: JSON.stringify(progress) }],
      })
      .catch((e: Error) => this.opts.log('warn', `progress not published: ${e.message}`));
  }

  /** Repartitioned rows this instance's shuffle tasks have not consumed yet. */
  private async shuffleBacklog(): Promise<number> {
    // Unknown backlog reads as 0 for this progress event; the next one asks the broker again.
    const bounds = await offsetBounds(this.admin, repartitionTopic(this.scope)).catch(() => undefined);
    if (!bounds) return 0;
    let backlog = 0;
    for (const { partition } of this.shuffleReader?.assignment() ?? []) {
      const b = bounds.get(partition);
      if (!b) continue;
      const rt = this.tasks.get(shuffleTaskId(partition));
      // A task whose batch just failed is dropped until the next trigger recovers it: its
      // position is then where its checkpoint says (the failed batch's start).
      const position = rt
        ? (rt.replay?.range.start ?? rt.nextStart)
        : await this.opts.checkpoint.latest(shuffleTaskId(partition)).then(
            ({ offsets, commit }) =>
              offsets && (commit?.batchId ?? -1) >= offsets.batchId
                ? offsets.range.end
                : offsets?.range.start,
            () => undefined,
          );
      backlog += Math.max(0, b.latest - (position ?? b.earliest));
    }
    return backlog;
  }

  private sinkDescription(): string {
    const sink = this.spec.sink;
    if ('kafka' in sink) return `KafkaSink[${sink.kafka.topic}]`;
    if ('postgres' in sink) return `PostgresSink[${sink.postgres.table}]`;
    return 'ConsoleSink';
  }

  private async shutdown(): Promise<void> {
    this.opts.log('info', `stopping: ${this.stopReason}`);
    // Shutdown: every step runs even if an earlier one failed; what failed is logged, and the
    // checkpoint already holds everything a restart needs (nothing here writes state).
    const quietly = (what: string) => (e: Error) => this.opts.log('warn', `shutdown: ${what}: ${e.message}`);
    // Side by side: nothing runs any more, and the successor of a drained instance (an upgrade,
    // a scale-in) starts only once this process has exited, so every second here is output gap.
    await Promise.all([
      this.sourceReader?.stop().catch(quietly('source reader')),
      this.shuffleReader?.stop().catch(quietly('shuffle reader')),
      ...[...this.tasks.values()].map((rt) => this.dropTask(rt, 'shutdown')),
      this.control?.stop(),
      this.progressProducer?.disconnect().catch(quietly('progress producer')),
    ]);
    await this.admin?.disconnect().catch(quietly('Kafka admin'));
    await this.pool?.end().catch(quietly('sink pool'));
    await this.opts.checkpoint.close().catch(quietly('checkpoint'));
  }
}
