// The micro-batch loop of one engine instance. Per trigger: apply control commands, plan each
// owned task's range (WAL first), read exactly that range, run the plan, make the output
// visible atomically with the task's marker, write the commit log, then publish one progress
// event. Ownership of tasks follows Kafka's group assignment (source partitions for stage 1,
// repartition-topic partitions = shuffle partitions for stage 2).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
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
  type StatefulFunction,
  type CompileResult,
  type QueryExecutor,
  type QuerySpec,
  type SourceSpec,
  type FileSourceSpec,
} from '@sluice/query-plan';
import type { CheckpointStore, OffsetLogEntry, StartOffsets } from '../checkpoint/checkpoint-store';
import { CheckpointCorruptError } from '../checkpoint/checksum-frame';
import {
  continuePoint,
  offsetsJson,
  partitionKey,
  withBacklog,
  type ReplaySet,
  type RowOrigin,
} from '../offsets/continue-offsets';
import { DataLossError } from '../offsets/offset-planner';
import { parseStartingOffsets, resolveStartingOffset } from '../offsets/starting-offsets';
import { buildProgress } from '../progress/progress-builder';
import { ControlListener } from '../control/control-listener';
import { GroupReader, PartitionRevokedError } from '../source/group-reader';
import { GroupMemberFile } from '../source/group-member-file';
import type { OutputColumn } from '../sinks/format-row';
import { BatchAlreadyCommittedError } from '../sinks/postgres-table';
import { createSink } from '../sinks/create-sink';
import { KafkaSink } from '../sinks/kafka-sink';
import { kafkaGroupTarget, type Sink } from '../sinks/sink';
import { writesVisible } from './committed-writes';
import { isDatabaseUnavailable } from '../pg/pg-errors';
import { OutageBackoff, retryWhileUnavailable, StoppedWhileWaitingError } from './database-outage';
import { DEFAULT_MAX_MESSAGE_BYTES, maxRecordBytes, readMaxMessageBytes } from './kafka-limits';
import { DEFAULT_WARMUP_RECORDS, warmBatchPath } from './batch-path-warmup';
import type { RowGuard } from './record-guards';
import { fenceTasks, KafkaOutputLog } from './kafka-output-log';
import { markerBatch } from './output-log';
import { TaskCommitter } from './task-committer';
import { joinWatermarkSources } from './join-stage';
import {
  emptyStateTrigger,
  emptyTriggerStats,
  PlanTakenError,
  joinsTriggerTransaction,
  runTaskBatch,
  type SharedCommit,
  type BatchContext,
  type TriggerStats,
} from './task-batch';
import { KafkaSource } from '../source/kafka-source';
import { CommittedOffsetsCache } from '../source/committed-offsets-cache';
import { openStateStoreProvider, type StateStoreProvider } from '../state/state-store-provider';
import { postgresStaticTable, type StaticTableCache } from '../source/static-table';
import { createPool } from '../pg/create-pool';
import type { Source } from '../source/source';
import { FileChangedError } from '../source/file-reader';
import { FileSources, fileSourceTopic } from '../source/file-source';
import { EMPTY_CURSOR, fileBatchOf, type FileCursor, type FileRef } from '../source/file-selection';
import { applyCommands, diffAssignment, planTrigger, type Bounds } from './trigger-planner';
import { saveCodeCacheIfOffered } from '../launch/code-cache';
import {
  INITIAL_BATCH_RECORDS,
  MIN_BATCH_RECORDS,
  ThroughputMeter,
  batchTimeBudgetMs,
  recordsPerTask,
} from '@sluice/scaling';
import {
  decodeShuffledRecord,
  NEW_CHECKPOINT_REPARTITION_FORMAT,
  repartitionFormatOf,
  type RepartitionFormat,
} from './shuffle-codec';
import {
  flushCommitLog,
  recoverTask,
  shuffleTaskId,
  sourceTaskId,
  type Stage,
  type TaskRuntime,
} from './task-runtime';

type Compiled = Extract<CompileResult, { ok: true }>;

export interface RunOptions {
  queryId: string;
  instanceId: string;
  queryVersion: number;
  compiled: Compiled;
  /** The function of a plan's stateful operator (exec/stateful-module.ts). */
  statefulFunction?: StatefulFunction;
  kafka: Kafka;
  checkpoint: CheckpointStore;
  rateLimit: number | null;
  sinkPostgresUrl: string | undefined;
  /** Connection name → URL for the tables of stream–static joins (SLUICE_TABLE_POSTGRES_URLS). */
  tablePostgresUrls?: ReadonlyMap<string, string>;
  /** SLUICE_FILE_SINK_ROOT: where a file sink's relative path lives. */
  fileSinkRoot?: string | undefined;
  /**
   * Checkpoint lineage (0 = the query's first checkpoint): groups, repartition topic,
   * transactional ids and sink markers are named after checkpointScope(queryId, epoch).
   */
  checkpointEpoch?: number;
  /** Overrides the spec's startingOffsets for tasks with no checkpoint history. */
  startingOffsets?: 'earliest' | 'latest';
  /** A fresh checkpoint continuing where the checkpoint of `epoch` (opened as `store`) committed. */
  continueFrom?: { epoch: number; store: CheckpointStore };
  /**
   * Pre-started: prepare connects and checks, then waits for this before anything another
   * instance could see (metadata and plan writes, continue point, control listener, group joins,
   * task producers).
   */
  standby?: Promise<void>;
  /** This instance's local working folder (an `lmdb` state store's files), never in the checkpoint. */
  workDir: string;
  /**
   * Synthetic records run through the batch path before the groups are joined (batch-path-warmup.ts;
   * 0 = none). Default DEFAULT_WARMUP_RECORDS.
   */
  warmupRecords?: number;
  log: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

/** Errors that must stop the engine (exit 1) instead of being retried. */
const FATAL = [DataLossError, CheckpointCorruptError, FileChangedError];
const MAX_SHUFFLE_RECORDS_PER_BATCH = 200_000;
const IDLE_PROGRESS_INTERVAL_MS = 10_000;
/** The trigger interval at most while sources are paused, for the first seconds of a pause. */
const PAUSED_TRIGGER_MS = 250;
const PAUSED_FAST_TRIGGERS_MS = 30_000;
/** Longest sink error reported in progress (the control plane shows it in a condition). */
const MAX_SINK_ERROR = 500;
/** A sink check after a failed trigger gives up after this long (a hung sink counts as refusing). */
const SINK_PROBE_TIMEOUT_MS = 5000;
/**
 * How old the admin's partition metadata may be when a trigger lists a topic's offsets. kafkajs's
 * admin refreshes it on every call by default: a Metadata round trip before every trigger's
 * ListOffsets (issue 20 §5). A moved leader or a lost connection still refreshes it at once
 * (kafkajs patch 008); only a partition added to a source topic waits up to this long, and the
 * consumer group sees such a partition later than that anyway (kafkajs's metadataMaxAge, 5 min).
 */
const ADMIN_METADATA_MAX_AGE_MS = 5000;

export class QueryRunner {
  private readonly spec: QuerySpec;
  private readonly executor: QueryExecutor;
  private readonly stateful: boolean;
  /** How the source stage writes the repartition topic: the checkpoint's metadata says. */
  private repartitionFormat: RepartitionFormat = 'rows';
  private readonly runId = randomUUID();
  private readonly tasks = new Map<string, TaskRuntime>();
  private readonly sourceByTopic = new Map<string, SourceSpec>();
  /** File sources by the topic that gives their task an owner (source/file-source.ts). */
  private readonly fileSpecs = new Map<string, FileSourceSpec>();
  /** Set when the query has file sources: reads their directories, Kafka for the rest. */
  private fileSources: FileSources | undefined;
  private readonly columns: OutputColumn[];
  /** Name of this checkpoint lineage (checkpointScope). */
  private readonly scope: string;
  /** First offsets of a continuing checkpoint (`topic:partition`), from the old checkpoint. */
  private continueOffsets: Map<string, number> | undefined;
  /** Source records below the old end read again for the old shuffle backlog (`topic:partition`). */
  private replay = new Map<string, ReplaySet>();
  /** A continuing lineage: where it continued from and what it found in the old backlog (progress). */
  private continued: { fromEpoch: number; backlog?: NonNullable<StartOffsets['backlog']> } | undefined;
  /** A `pauseSources` command holds the source stage (the shuffle stage keeps running). */
  private sourcesPaused = false;
  /** When the sources were last paused (a pause shortens the trigger interval for a while). */
  private pausedAtMs = 0;
  private admin!: Admin;
  private progressProducer!: Producer;
  private sourceReader!: GroupReader;
  private shuffleReader: GroupReader | undefined;
  private control!: ControlListener;
  private sink!: Sink;
  private source!: Source;
  /** Where the tasks' state lives: the spec's `options.stateStore`. */
  private stateStores: StateStoreProvider | undefined;
  /** What every task's batch needs (task-batch.runTaskBatch); set once started. */
  private batch!: BatchContext;
  private outputLog!: KafkaOutputLog;
  private rateLimit: number | null;
  private stopping = false;
  private stopReason = '';
  private fatal: Error | undefined;
  private wake: (() => void) | undefined;
  private acked: string[] = [];
  private previousTriggerStartMs: number | undefined;
  private lastProgressMs = 0;
  /** When the last trigger's execution (`triggerExecution`) ended. */
  private lastExecutionEndMs: number | undefined;
  /**
   * The engine's own work between the previous trigger's execution and this trigger's start
   * (that trigger's progress report, the code cache's save, the loop), the wait for the interval
   * left out. Spark's durations leave it out too, but a round costs it: the autoscaler adds it to
   * the batch (aggregate-progress.ts); at 0.1 CPU it was ~0.1 s of a 1 s trigger.
   */
  private outsideTriggerMs: number | undefined;
  /**
   * The process's CPU time (every thread) and the wall time from the previous trigger's execution
   * end to this one's: a whole round, the wait included. Work off the trigger's path (the Kafka
   * client fetching and decoding the next records, heartbeats, reports) spends the same CPU quota
   * as the batch: at 0.1 CPU an engine used 51 % of its quota while its batches and reports took
   * 14 % of the wall time (BENCHMARKS.md, 2026-12-06), so a wall-clock busy time alone showed the
   * autoscaler capacity the quota did not have.
   */
  private round: { cpuMs: number; wallMs: number } | undefined;
  /**
   * Reports with rows this process has published, the current one included: a new process's first
   * batches run cold (JIT, first fetches) and a capacity model must not read them as its rate.
   */
  private rowBatches = 0;
  private lastExecutionEndCpuUs: number | undefined;
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
  /** Records per second this instance has shown; sizes catch-up batches (batch-bound.ts). */
  private readonly throughput = new ThroughputMeter();
  /** The static side of a stream–static join (undefined: the plan has none). */
  private staticTable: { cache: StaticTableCache; close(): Promise<void> } | undefined;
  /** The source group's committed offsets, for sharing the rate limit by backlog (set once started). */
  private committed: CommittedOffsetsCache | undefined;

  constructor(private readonly opts: RunOptions) {
    this.spec = opts.compiled.spec;
    this.executor = instantiate(
      opts.compiled.plan,
      opts.statefulFunction ? { statefulFunction: opts.statefulFunction } : {},
    );
    this.stateful = this.executor.kind !== 'stateless';
    this.columns = this.executor.output;
    this.rateLimit = opts.rateLimit ?? this.spec.options.maxOffsetsPerTrigger ?? null;
    this.scope = checkpointScope(opts.queryId, opts.checkpointEpoch ?? 0);
    for (const s of Object.values(this.spec.sources)) {
      if (s.kafka) this.sourceByTopic.set(s.kafka.topic, s);
      else {
        const topic = fileSourceTopic(this.scope, s.file.path);
        this.sourceByTopic.set(topic, s);
        this.fileSpecs.set(topic, s.file);
      }
    }
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
    this.stopped?.();
  }

  /** Resolves when stop() is called (ends a standby wait). */
  private stopped?: () => void;

  async run(): Promise<void> {
    try {
      await this.prepare();
    } catch (e) {
      // Stopped while standing by: what prepare connected is closed, nothing was written.
      if (!(e instanceof StoppedWhileWaitingError)) throw e;
      await this.shutdown();
      throw e;
    }
    try {
      await this.loop();
    } finally {
      await this.shutdown();
    }
    if (this.fatal) throw this.fatal;
  }

  private async prepare(): Promise<void> {
    const { kafka, checkpoint, queryId, compiled } = this.opts;
    this.stateStores = await openStateStoreProvider(
      this.spec.options.stateStore ?? 'memory',
      checkpoint,
      // Per checkpoint lineage: another epoch is another checkpoint, hence other state.
      path.join(this.opts.workDir, `epoch-${this.opts.checkpointEpoch ?? 0}`),
    );
    // Connecting has no effect the checkpoint checks below could regret: it overlaps them (a start
    // is a chain of round trips; issue 20 §5).
    this.admin = kafka.admin({ metadataMaxAge: ADMIN_METADATA_MAX_AGE_MS });
    const adminConnected = this.admin.connect();
    // Awaited below; a failure before then must not surface as an unhandled rejection.
    adminConnected.catch(() => undefined);
    const n = this.spec.options.numShufflePartitions;
    const waitFor = <T>(what: string, work: () => Promise<T>): Promise<T> =>
      retryWhileUnavailable(work, {
        what,
        warn: (m) => this.opts.log('warn', m),
        stopped: () => this.stopping,
      });
    const metadata = {
      queryId,
      created: new Date().toISOString(),
      planHash: compiled.planHash,
      numShufflePartitions: n,
      repartitionFormat: NEW_CHECKPOINT_REPARTITION_FORMAT,
    };
    const initMetadata = async (): Promise<void> => {
      const stored = await waitFor('checkpoint database', () => checkpoint.initMetadata(metadata));
      this.checkMetadata(stored);
      // The checkpoint's form, not this engine's default: one created before batching keeps rows.
      this.repartitionFormat = repartitionFormatOf(stored);
    };
    // A standby writes nothing to its checkpoint before its release: it checks what is there (a
    // new checkpoint lineage has nothing yet) and creates the metadata once released, so one that
    // is never released (an upgrade rolled back) leaves no checkpoint behind.
    if (this.opts.standby) {
      const existing = await waitFor('checkpoint database', () => checkpoint.readMetadata());
      if (existing) this.checkMetadata(existing);
      // What the batch-path warm-up encodes; initMetadata sets it again once released.
      this.repartitionFormat = existing ? repartitionFormatOf(existing) : NEW_CHECKPOINT_REPARTITION_FORMAT;
    } else await initMetadata();
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
    await adminConnected;
    const topics = [
      { topic: PROGRESS_TOPIC, numPartitions: 3 },
      { topic: CONTROL_TOPIC, numPartitions: 1 },
      { topic: dlqTopic(queryId), numPartitions: 1 },
    ];
    if (this.stateful) topics.push({ topic: repartitionTopic(this.scope), numPartitions: n });
    if (this.fileSpecs.size > 0) {
      if (!this.opts.fileSinkRoot)
        throw new Error(
          'the spec has a file source: set SLUICE_FILE_SINK_ROOT for the engine (the folder its path is relative to, shared with file sinks; the control plane passes its own setting)',
        );
      // A new lineage's file task starts with no cursor: it would read every file again.
      if (this.opts.continueFrom)
        throw new Error(
          'a query with a file source cannot continue from another checkpoint (its files would be read again); upgrade it in place',
        );
      // One partition each: the file task's owner is whoever the group gives partition 0.
      for (const topic of this.fileSpecs.keys()) topics.push({ topic, numPartitions: 1 });
    }
    this.sink = createSink({
      spec: this.spec.sink,
      columns: this.columns,
      scope: this.scope,
      deadLetterTopic: dlqTopic(queryId),
      sinkPostgresUrl: this.opts.sinkPostgresUrl,
      fileSinkRoot: this.opts.fileSinkRoot,
      warn: (m) => this.opts.log('warn', m),
    });
    topics.push(...this.sink.topics);
    await ensureTopics(this.admin, topics);
    // Connected before the sink is prepared, so that a sink that refuses shows in progress (and
    // from there in the query's conditions) rather than only in this log. The three are
    // independent round trips: side by side.
    this.progressProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const [limits, existing] = await Promise.all([
      readMaxMessageBytes(
        this.admin,
        topics.filter((t) => t.topic !== PROGRESS_TOPIC && t.topic !== CONTROL_TOPIC).map((t) => t.topic),
      ),
      this.admin.listTopics(),
      this.progressProducer.connect(),
    ]);
    this.topicLimits = limits;
    for (const topic of this.sourceByTopic.keys()) {
      if (!existing.includes(topic))
        this.opts.log('warn', `source topic ${topic} does not exist yet; waiting for it`);
    }
    const sinkWaitFor = <T>(what: string, work: () => Promise<T>): Promise<T> =>
      retryWhileUnavailable(work, {
        what,
        warn: (m) => {
          this.opts.log('warn', m);
          void this.reportSinkRefused(m);
        },
        stopped: () => this.stopping,
      }).catch(async (e: Error) => {
        // Refused outright (credentials, permissions, a table of another shape): reported before
        // the engine exits on it, so the crash comes with its reason.
        if (!(e instanceof StoppedWhileWaitingError)) await this.reportSinkRefused(`${what}: ${e.message}`);
        throw e;
      });
    await this.sink.prepare({ maxMessageBytes: (topic) => this.topicLimit(topic), waitFor: sinkWaitFor });
    this.guard = this.sink.guard;
    this.outputLog = new KafkaOutputLog(kafka, this.admin, this.scope, this.topicLimits);
    // Batches that commit in the trigger's transaction (a Kafka sink's, a stateful query's source
    // stage) find its producer open: it opens while the groups join (and a standby waits) instead
    // of inside the first batch.
    if (this.stateful || this.sink.marker === 'kafka-group') this.outputLog.openEarly();
    // Before a standby's wait: an upgrade's successor warms while its predecessor still runs.
    await this.warmBatchPath();
    if (this.opts.standby) {
      await this.standBy(this.opts.standby);
      await initMetadata();
    }
    await waitFor('checkpoint database', () =>
      checkpoint.writePlan(this.opts.queryVersion, { plan: compiled.plan, planHash: compiled.planHash }),
    );
    if (this.opts.continueFrom) await this.loadContinuePoint(this.opts.continueFrom, waitFor);

    this.control = new ControlListener(
      kafka,
      queryId,
      this.opts.instanceId,
      this.opts.queryVersion,
      (m) => this.opts.log('warn', m),
      () => this.wake?.(),
    );

    const onFatal = (err: Error): void => {
      this.fatal = err;
      this.stop(`consumer crashed: ${err.message}`);
    };
    const memberFile = (groupId: string) =>
      new GroupMemberFile(this.opts.workDir, groupId, (level, m) => this.opts.log(level, m));
    this.sourceReader = new GroupReader(kafka, {
      groupId: this.sourceGroup,
      memberFile: memberFile(this.sourceGroup),
      topics: [...this.sourceByTopic.keys()],
      onFatal,
      onRebalance: (a, g, m) => this.onRebalance('source', a.length, g, m),
    });
    if (this.stateful) {
      this.shuffleReader = new GroupReader(kafka, {
        groupId: this.shuffleGroup,
        memberFile: memberFile(this.shuffleGroup),
        topics: [repartitionTopic(this.scope)],
        onFatal,
        onRebalance: (a, g, m) => this.onRebalance('shuffle', a.length, g, m),
      });
    }
    this.opts.log('info', 'engine connected; joining groups');
    // Side by side: each is a round of Kafka's group protocol, and a replacement instance (an
    // upgrade) is not processing until all three have joined.
    await Promise.all([this.control.start(), this.sourceReader.start(), this.shuffleReader?.start()]);
    const kafkaSource = new KafkaSource(this.admin, this.sourceReader, this.shuffleReader);
    this.fileSources =
      this.fileSpecs.size > 0
        ? new FileSources(
            kafkaSource,
            this.fileSpecs,
            this.opts.fileSinkRoot!,
            this.spec.options.failOnDataLoss,
            (m) => this.opts.log('warn', m),
          )
        : undefined;
    this.source = this.fileSources ?? kafkaSource;
    const trigger = this.spec.trigger;
    this.committed = new CommittedOffsetsCache(
      async () => {
        const offsets = await committedGroupOffsets(this.admin, this.sourceGroup, [
          ...this.sourceByTopic.keys(),
        ]);
        return new Map([...offsets].map(([key, c]) => [key, c.offset]));
      },
      // About one trigger (at least a second, for triggers that run back to back).
      Math.max(1000, 'processingTimeMs' in trigger ? trigger.processingTimeMs : 0),
      (m) => this.opts.log('warn', m),
    );
    this.staticTable = this.openStaticTable();
    this.batch = {
      queryId,
      checkpoint,
      source: this.source,
      sink: this.sink,
      executor: this.executor,
      outputMode: this.spec.outputMode,
      numShufflePartitions: n,
      sourceByTopic: this.sourceByTopic,
      columns: this.columns,
      guard: this.guard,
      dlqTopic: dlqTopic(queryId),
      repartitionTopic: this.stateful ? repartitionTopic(this.scope) : undefined,
      repartitionFormat: this.repartitionFormat,
      topicLimit: (topic) => this.topicLimit(topic),
      log: (level, msg) => this.opts.log(level, msg),
      sourceReplay: (topic, partition) => this.replay.get(partitionKey(topic, partition)),
      ...(this.staticTable ? { staticTable: () => this.staticTable!.cache.index } : {}),
    };
    this.opts.log('info', 'engine started', {
      runId: this.runId,
      stateful: this.stateful,
      rateLimit: this.rateLimit,
      planHash: compiled.planHash,
    });
  }

  /** The checkpoint must be this query's, with the spec's shuffle partition count. */
  /**
   * The batch path warmed on synthetic records of each Kafka source, before any partition is
   * this instance's (batch-path-warmup.ts says why). Logged with its figures; a failure is
   * logged and ignored: the warm-up is an optimisation, and the real batch reports real errors.
   */
  private async warmBatchPath(): Promise<void> {
    const kafkaSources = [...this.sourceByTopic].filter(([topic]) => !this.fileSpecs.has(topic));
    const total = this.opts.warmupRecords ?? DEFAULT_WARMUP_RECORDS;
    for (const [topic, source] of kafkaSources) {
      try {
        const repartition = this.stateful ? repartitionTopic(this.scope) : undefined;
        const res = await warmBatchPath({
          queryId: this.opts.queryId,
          source,
          topic,
          executor: this.executor,
          sink: this.sink,
          guard: this.guard,
          numShufflePartitions: this.spec.options.numShufflePartitions,
          ...(repartition
            ? {
                repartition: {
                  topic: repartition,
                  maxMessageBytes: this.topicLimit(repartition),
                  format: this.repartitionFormat,
                },
              }
            : {}),
          dlqMaxRecordBytes: maxRecordBytes(this.topicLimit(dlqTopic(this.opts.queryId))),
          records: Math.ceil(total / kafkaSources.length),
          stopped: () => this.stopping,
        });
        if (res.skipped) this.opts.log('info', `batch path not warmed: ${res.skipped}`, { topic });
        else this.opts.log('info', 'batch path warmed', { topic, ...res });
      } catch (e) {
        this.opts.log('warn', `batch path warm-up failed (ignored): ${(e as Error).message}`, { topic });
      }
    }
  }

  private checkMetadata(meta: { queryId: string; numShufflePartitions: number }): void {
    const { checkpoint, queryId } = this.opts;
    const n = this.spec.options.numShufflePartitions;
    if (meta.queryId !== queryId)
      throw new Error(`checkpoint ${checkpoint.location} belongs to query ${meta.queryId}, not ${queryId}`);
    if (meta.numShufflePartitions !== n)
      throw new Error(
        `checkpoint ${checkpoint.location} was created with numShufflePartitions=${meta.numShufflePartitions}; the spec asks for ${n}, which cannot change for an existing checkpoint`,
      );
  }

  /**
   * A pre-started engine waits here, connected and prepared, until its predecessor has exited:
   * everything after this point (the checkpoint's metadata and plan writes, the control listener,
   * the group joins, the tasks' transactional producers) is what the old instance could see, so
   * none of it may run before the old instance's last batch is committed. A new checkpoint
   * continuing the old one also reads its continue point only after this: where the old lineage
   * ended is final once every old instance has exited (a new checkpoint is released only then).
   */
  private async standBy(release: Promise<void>): Promise<void> {
    const since = Date.now();
    this.opts.log('info', 'engine standing by');
    if (!this.stopping)
      await Promise.race([release, new Promise<void>((resolve) => (this.stopped = resolve))]);
    if (this.stopping) throw new StoppedWhileWaitingError(`release (${this.stopReason})`);
    this.opts.log('info', 'engine released', { waitedMs: Date.now() - since });
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
      // The old lineage's store is only read from here on; a close that fails costs its pool's
      // connections until the process ends, nothing of the new lineage: logged, not fatal.
      await from.store
        .close()
        .catch((e: Error) =>
          this.opts.log('warn', `closing the previous checkpoint store failed: ${e.message}`),
        );
      this.continueOffsets = new Map(Object.entries(fixed.offsets));
      this.replay = new Map(Object.entries(fixed.replay ?? {}));
      this.continued = {
        fromEpoch: fixed.continuedFrom,
        ...(fixed.backlog ? { backlog: fixed.backlog } : {}),
      };
      return;
    }
    const oldScope = checkpointScope(this.opts.queryId, from.epoch);
    const visible = async (task: string, wal: OffsetLogEntry): Promise<boolean> => {
      // Whichever marker the old version used: the group offset committed in its batch
      // transaction (Kafka outputs) or its row in sink_commits (a PostgreSQL sink).
      const groupId = task.startsWith('src.')
        ? engineGroupId(oldScope)
        : `${engineGroupId(oldScope)}-shuffle`;
      // Stable: every old producer is fenced by now, so no transaction holds the offsets for long.
      const meta = await this.outputLog.groupMarker(groupId, wal.range.topic, wal.range.partition, true);
      if ((markerBatch(meta) ?? -1) >= wal.batchId) return true;
      if (!this.sink.committedBatchOf) return false;
      // Unreadable marker = not visible: the batch is replayed, which the sink's idempotence absorbs.
      const batch = await this.sink.committedBatchOf(oldScope, task).catch((e: Error) => {
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
      // And the instance producers of its trigger transactions, as each task's last entry names them.
      const oldWriters = await waitFor('checkpoint database', async () =>
        (await Promise.all(oldTasks.map(async (t) => (await from.store.latest(t)).offsets?.writer))).filter(
          (w): w is string => w !== undefined,
        ),
      );
      await fenceTasks(this.opts.kafka, oldScope, oldTasks, oldWriters);
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
          ...(backlog.rows > 0
            ? {
                backlog: {
                  rows: backlog.rows,
                  withoutOrigin: backlog.withoutOrigin,
                  partlyAggregatedRecords: folded.partialRecords,
                },
              }
            : {}),
        }),
      );
      this.continued = {
        fromEpoch: start.continuedFrom,
        ...(start.backlog ? { backlog: start.backlog } : {}),
      };
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
              partlyAggregatedRecords: [...this.replay.values()].reduce(
                (n, r) => n + Object.keys(r.partial ?? {}).length,
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
          // Either record form (one row, or a batch of rows: shuffle-codec.ts).
          for (const body of decodeShuffledRecord(record)) {
            out.rows++;
            const o = body.o;
            if (Array.isArray(o) && (o.length === 3 || o.length === 5)) {
              const origin: RowOrigin = {
                topic: String(o[0]),
                partition: Number(o[1]),
                offset: Number(o[2]),
              };
              // A record of several groups: which of them this row is (continue-offsets.withBacklog).
              if (o.length === 5) origin.groups = { n: Number(o[3]), h: String(o[4]), key: String(body.k) };
              out.origins.push(origin);
            } else out.withoutOrigin++;
          }
        }
      }
    } finally {
      // The backlog is read; a reader that fails to stop or a group left behind costs nothing of the
      // query's data (the group is this run's own and commits nothing), but say so: a group left
      // behind shows in the broker's group list.
      await reader
        .stop()
        .catch((e: Error) =>
          this.opts.log('warn', `stopping the backlog reader ${groupId} failed: ${e.message}`),
        );
      await this.admin
        .deleteGroups([groupId])
        .catch((e: Error) =>
          this.opts.log(
            'warn',
            `deleting the backlog reader's group ${groupId} failed (left behind): ${e.message}`,
          ),
        );
    }
    return out;
  }

  /**
   * Whether the source and (stateful plans) shuffle groups have each given this member an
   * assignment, an empty one included. Starting the readers normally waits for both joins, but a
   * join that fails is retried by kafkajs in the background after start-up returns; until the
   * shuffle group answers, triggers run only source tasks, and an availableNow query that stopped
   * on an empty one would never aggregate what they repartitioned.
   */
  private everyGroupJoined(): boolean {
    return this.sourceReader.generation > 0 && (this.shuffleReader?.generation ?? 1) > 0;
  }

  /**
   * Whether the repartition topic's ends this trigger listed have passed every batch this
   * instance's source stage committed there: its transaction markers are written some time after
   * the commit is answered, and until then the shuffle stage sees no new rows (engine.int
   * complete mode stopped with none aggregated on a fresh broker, 1 run in ~9).
   */
  private repartitionedVisible(stats: TriggerStats): boolean {
    if (!this.stateful) return true;
    const topic = repartitionTopic(this.scope);
    return writesVisible(this.outputLog.written.of(topic), stats.listed?.get(topic));
  }

  private onRebalance(
    stage: Stage,
    partitions: number,
    generation: number,
    moved: { kept: number; added: number; revoked: number },
  ): void {
    this.opts.log('info', `${stage} group assignment: ${partitions} partition(s)`, { generation, ...moved });
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const trigger = this.spec.trigger;
    const triggerMs = 'processingTimeMs' in trigger ? trigger.processingTimeMs : 0;
    let waitedMs = 0;
    while (!this.stopping) {
      const started = Date.now();
      this.outsideTriggerMs =
        this.lastExecutionEndMs === undefined
          ? undefined
          : Math.max(0, started - this.lastExecutionEndMs - waitedMs);
      waitedMs = 0;
      const stats = await this.trigger();
      if (this.stopping) break;
      // After the progress is reported, so the write (once per bundle) delays no batch's figures.
      if (stats.tasks.length > 0) saveCodeCacheIfOffered();
      if ('once' in trigger) return this.stop('trigger once: done');
      if (
        'availableNow' in trigger &&
        !stats.ran &&
        this.tasks.size > 0 &&
        this.everyGroupJoined() &&
        this.repartitionedVisible(stats) &&
        [...this.tasks.values()].every((t) => !t.replay)
      ) {
        return this.stop('trigger availableNow: no more data');
      }
      // Sources paused (an upgrade flushing the shuffle stage): nothing new is read, so the
      // interval buys no batching, and the control plane waits for a trigger of every instance
      // that started after the last one paused: at the query's interval that is up to one
      // interval of output gap (bench:upgrade 12-03 09:52: 1.16 s from the pause to the drain).
      // Bounded in time, so a query left paused does not report 4 times a second for ever.
      const intervalMs =
        this.sourcesPaused && Date.now() - this.pausedAtMs < PAUSED_FAST_TRIGGERS_MS
          ? Math.min(triggerMs, PAUSED_TRIGGER_MS)
          : triggerMs;
      const wait = Math.max(
        intervalMs - (Date.now() - started),
        stats.ran ? 0 : Math.max(intervalMs, 200) - (Date.now() - started),
        this.retryAfterMs - (Date.now() - started),
      );
      if (wait > 0) {
        const from = Date.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        waitedMs = Date.now() - from;
      }
      this.wake = undefined;
    }
  }

  private applyCommands(): void {
    const out = applyCommands(
      { rateLimit: this.rateLimit, sourcesPaused: this.sourcesPaused },
      this.control.take(),
    );
    this.rateLimit = out.rateLimit;
    if (out.sourcesPaused && !this.sourcesPaused) this.pausedAtMs = Date.now();
    this.sourcesPaused = out.sourcesPaused;
    for (const n of out.notes) this.opts.log('info', n.msg, { commandId: n.commandId });
    this.acked.push(...out.acked);
    if (out.drain) this.stop('drain command');
  }

  private async trigger(): Promise<TriggerStats> {
    const startMs = Date.now();
    const durations: Record<string, number> = {};
    const stats = emptyTriggerStats();
    this.applyCommands();
    try {
      let t = Date.now();
      await this.syncTasks();
      const bounds = new Map<string, Map<number, Bounds>>();
      // Every source topic, owned or not: the rate limit's share is over the whole query's partitions.
      for (const topic of new Set(
        [...this.tasks.values()].map((r) => r.topic).concat([...this.sourceByTopic.keys()]),
      ))
        bounds.set(topic, await this.source.bounds(topic));
      stats.listed = bounds;
      const committed = this.rateLimit == null ? undefined : await this.committed?.get(Date.now());
      const fileNext = await this.nextFiles(bounds);
      durations.latestOffset = Date.now() - t;
      if (this.staticTable) {
        t = Date.now();
        await this.staticTable.cache.ensureFresh(Date.now());
        durations.staticTableRefresh = Date.now() - t;
      }
      t = Date.now();
      const plans = this.planTasks(bounds, committed, startMs).map(
        ([rt, entry]): [TaskRuntime, OffsetLogEntry] => {
          // A new batch of a file task names the files it takes (a replay already does).
          const next = fileNext.get(rt.task);
          return next && entry !== rt.replay
            ? [rt, { ...entry, files: fileBatchOf(entry.range, next.files, next.cursor) }]
            : [rt, entry];
        },
      );
      durations.queryPlanning = Date.now() - t;
      // Tasks are independent (own range, marker, state) and run concurrently; the new batches of
      // kafka-group tasks commit together in one transaction (kafka-output-log.ts), so a trigger
      // costs one transaction, not one per owned partition.
      t = Date.now();
      const shared = await this.outputLog.beginTrigger(
        plans.filter(([rt, entry]) => joinsTriggerTransaction(rt, entry)).map(([rt]) => rt.task),
      );
      const results = await Promise.allSettled(
        plans.map(([task, entry]) => this.runTask(task, entry, stats, durations, shared)),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      // Only batches that committed (a task revoked mid-batch returns without an error).
      const done = new Set(stats.tasks);
      this.throughput.observe(
        plans.reduce((n, [rt, e]) => n + (done.has(rt.task) ? e.range.end - e.range.start : 0), 0),
        Date.now() - t,
      );
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
      // Whether the sink is to blame: the user can act on that (the table, the credentials, the
      // topic), and the query shows it as a condition instead of running on as Healthy.
      stats.sinkError = await this.probeSink();
      if (isDatabaseUnavailable(e)) {
        // Waited out, not counted: the outage is not this batch's fault, and the batch re-runs
        // from its write-ahead log entry once the database answers.
        stats.waitedOut = true;
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
    const endMs = startMs + durations.triggerExecution;
    const cpu = process.cpuUsage();
    const cpuUs = cpu.user + cpu.system;
    this.round =
      this.lastExecutionEndMs === undefined || this.lastExecutionEndCpuUs === undefined
        ? undefined
        : {
            cpuMs: Math.max(0, Math.round((cpuUs - this.lastExecutionEndCpuUs) / 1000)),
            wallMs: Math.max(0, endMs - this.lastExecutionEndMs),
          };
    this.lastExecutionEndMs = endMs;
    this.lastExecutionEndCpuUs = cpuUs;
    await this.report(stats, startMs, durations);
    return stats;
  }

  private openStaticTable(): { cache: StaticTableCache; close(): Promise<void> } | undefined {
    const join = this.executor.staticJoin;
    const spec = join ? this.spec.tables?.[join.table] : undefined;
    if (!join || !spec) return undefined;
    const urls = new Map(this.opts.tablePostgresUrls ?? []);
    if (
      'postgres' in this.spec.sink &&
      this.opts.sinkPostgresUrl &&
      !urls.has(this.spec.sink.postgres.connection)
    )
      urls.set(this.spec.sink.postgres.connection, this.opts.sinkPostgresUrl);
    return postgresStaticTable({
      name: join.table,
      spec,
      join,
      urls,
      createPool: (url) => createPool(url, 'static table', (m) => this.opts.log('warn', m)),
      log: (m) => this.opts.log('warn', m),
    });
  }

  /** Creates runtimes for newly assigned partitions and drops revoked ones. */
  private async syncTasks(): Promise<void> {
    const wanted = new Map<string, { stage: Stage; topic: string; partition: number }>();
    for (const tp of this.source.assignment('source'))
      wanted.set(sourceTaskId(tp.topic, tp.partition), { stage: 'source', ...tp });
    for (const tp of this.source.assignment('shuffle'))
      wanted.set(shuffleTaskId(tp.partition), { stage: 'shuffle', ...tp });
    const { drop, add } = diffAssignment(this.tasks.keys(), wanted);
    for (const id of drop) await this.dropTask(this.tasks.get(id)!, 'revoked');
    // New tasks are recovered side by side (each opens its own transactional producer, which
    // fences the previous owner, and reads its own checkpoint files): after a start or a
    // rebalance the first batch waits for the slowest task, not for all of them in turn.
    const recovered = await Promise.allSettled(add.map(([id, w]) => this.recover(id, w)));
    const failed = recovered.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Takes over one task: opens its committer (fencing the previous owner) and recovers it from the checkpoint. */
  private async recover(id: string, w: { stage: Stage; topic: string; partition: number }): Promise<void> {
    // The source stage of a stateful plan writes the repartition topic; every other task the sink.
    const target = w.stage === 'source' && this.stateful ? kafkaGroupTarget : this.sink;
    const committer = new TaskCommitter(
      this.outputLog,
      id,
      target,
      w.stage === 'source' ? this.sourceGroup : this.shuffleGroup,
      this.opts.checkpoint,
    );
    const rt = await recoverTask({
      checkpoint: this.opts.checkpoint,
      committer,
      stage: w.stage,
      topic: w.topic,
      partition: w.partition,
      stateOperator: w.stage === 'shuffle' ? this.executor.kind : undefined,
      stateStores: this.stateStores!,
      watermarkDelayMs: w.stage === 'shuffle' ? this.watermarkDelayMs() : undefined,
      ...(w.stage === 'shuffle' && this.executor.streamJoin
        ? { watermarkSources: joinWatermarkSources(this.executor, this.spec.sources) }
        : {}),
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

  private async dropTask(rt: TaskRuntime, why: string): Promise<void> {
    this.tasks.delete(rt.task);
    rt.state?.abort();
    // Maintenance (compaction) is an optimisation the next owner of the task redoes; losing it is safe.
    await rt.state
      ?.flushMaintenance()
      .catch((e: Error) =>
        this.opts.log('warn', `task ${rt.task}: state maintenance not flushed: ${e.message}`),
      );
    await rt.state
      ?.close()
      .catch((e: Error) => this.opts.log('warn', `task ${rt.task}: state store not closed: ${e.message}`));
    // The commit log entries its batches did not wait for (task-batch.ts), before a next owner reads it.
    await flushCommitLog(rt);
    await rt.committer.close();
    this.opts.log('info', `task ${rt.task} released (${why})`);
  }

  /** Plans (or re-plans) every task's next batch (trigger-planner.planTrigger). */
  private planTasks(
    bounds: Map<string, Map<number, { earliest: number; latest: number }>>,
    committed: ReadonlyMap<string, number | null> | undefined,
    nowMs: number,
  ): Array<[TaskRuntime, OffsetLogEntry]> {
    const plan = planTrigger({
      tasks: [...this.tasks.values()].map((rt) => ({ ...rt, watermarkMs: rt.watermark?.watermarkMs })),
      bounds,
      sourcesPaused: this.sourcesPaused,
      rateLimit: this.rateLimit,
      totalSourcePartitions: [...this.sourceByTopic.keys()].reduce(
        (n, topic) => n + (bounds.get(topic)?.size ?? 0),
        0,
      ),
      sourceTopics: [...this.sourceByTopic.keys()],
      committed,
      minOffsetsPerTrigger: this.spec.options.minOffsetsPerTrigger ?? null,
      maxTriggerDelayMs: this.spec.options.maxTriggerDelayMs ?? 15 * 60_000,
      failOnDataLoss: this.spec.options.failOnDataLoss,
      firstOffset: (topic, partition, b) => this.firstOffset(topic, partition, b),
      maxShuffleRecordsPerBatch: MAX_SHUFFLE_RECORDS_PER_BATCH,
      maxRecordsPerTask: recordsPerTask({
        recordsPerSecond: this.throughput.recordsPerSecond,
        tasks: this.tasks.size,
        budgetMs: batchTimeBudgetMs(
          'processingTimeMs' in this.spec.trigger ? this.spec.trigger.processingTimeMs : 0,
        ),
        min: MIN_BATCH_RECORDS,
        max: null,
        initial: INITIAL_BATCH_RECORDS,
      }),
      queryVersion: this.opts.queryVersion,
      nowMs,
      lastTriggerMs: this.lastTriggerMs,
    });
    for (const loss of plan.dataLoss) this.opts.log('warn', loss.message, { lostOffsets: loss.lostOffsets });
    this.lastTriggerMs = plan.lastTriggerMs;
    for (const [task, start] of plan.nextStarts) {
      const rt = this.tasks.get(task);
      if (rt) rt.nextStart = start;
    }
    return plan.runs.map(({ task, entry }) => [this.tasks.get(task)!, entry]);
  }

  /**
   * File tasks: the files each could take now (file-source.ts), set as its bounds (one offset a
   * file, from where the task stands), for planTrigger to cut by the rate limit like any range.
   */
  private async nextFiles(
    bounds: Map<string, Map<number, { earliest: number; latest: number }>>,
  ): Promise<Map<string, { files: FileRef[]; cursor: FileCursor }>> {
    const out = new Map<string, { files: FileRef[]; cursor: FileCursor }>();
    const files = this.fileSources;
    if (!files) return out;
    for (const rt of this.tasks.values()) {
      if (rt.stage !== 'source' || !files.isFileTopic(rt.topic) || rt.replay) continue;
      const cursor = rt.lastPlanned?.files?.cursor ?? EMPTY_CURSOR;
      const next = await files.nextFiles(rt.topic, cursor);
      const start = rt.nextStart ?? 0;
      bounds.set(rt.topic, new Map([[rt.partition, { earliest: 0, latest: start + next.length }]]));
      out.set(rt.task, { files: next, cursor });
    }
    return out;
  }

  /** Where a source partition with no checkpoint history starts. */
  private firstOffset(topic: string, partition: number, b: { earliest: number; latest: number }): number {
    // A file source starts with the first file it takes (Spark reads a directory's existing files).
    if (this.fileSpecs.has(topic)) return 0;
    // Continuing: where the old checkpoint stopped; a partition it never read from its start.
    if (this.continueOffsets) return this.continueOffsets.get(partitionKey(topic, partition)) ?? b.earliest;
    const configured = this.opts.startingOffsets ?? this.sourceByTopic.get(topic)?.kafka?.startingOffsets;
    return resolveStartingOffset(parseStartingOffsets(configured), topic, partition, b.earliest, b.latest);
  }

  private async runTask(
    rt: TaskRuntime,
    planned: OffsetLogEntry,
    stats: TriggerStats,
    durations: Record<string, number>,
    shared: SharedCommit | undefined,
  ): Promise<void> {
    try {
      await runTaskBatch(this.batch, rt, planned, stats, durations, shared);
    } catch (err) {
      // Before anything awaits: the trigger's transaction no longer waits for this batch.
      shared?.txn.withdraw(rt.task);
      rt.watermark?.discardBatch();
      if (err instanceof PartitionRevokedError) {
        await this.dropTask(rt, 'revoked during batch');
        return;
      }
      if (err instanceof BatchAlreadyCommittedError || err instanceof PlanTakenError) {
        // Another owner got there first (we lost the partition and have not heard yet): nothing
        // of ours landed. Recover from the marker on the next trigger if we still own the task.
        await this.dropTask(rt, err.message);
        return;
      }
      // Anything else: forget the in-memory task; it is recovered from the checkpoint and its
      // marker on the next trigger (or by the next owner), re-running this batch if needed.
      await this.dropTask(rt, `batch ${planned.batchId} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      // A batch that ended without committing must not hold the others' transaction (no-op otherwise).
      shared?.txn.withdraw(rt.task);
    }
  }

  private topicLimit(topic: string): number {
    return this.topicLimits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** After a failed trigger: the sink's refusal, bounded; undefined when it answers. */
  private async probeSink(): Promise<string | undefined> {
    const sink = this.sink;
    const check = (): Promise<string | undefined> =>
      sink instanceof KafkaSink
        ? sink.probeWith(() => this.admin.listTopics())
        : (sink.probe?.() ?? Promise.resolve(undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(`sink did not answer within ${SINK_PROBE_TIMEOUT_MS / 1000} s`),
        SINK_PROBE_TIMEOUT_MS,
      );
    });
    try {
      return (await Promise.race([check(), timeout]))?.slice(0, MAX_SINK_ERROR);
    } catch (e) {
      return `${sink.description}: ${(e as Error).message}`.slice(0, MAX_SINK_ERROR);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Progress with no batch that says why the sink refuses (while the engine waits for it at start). */
  private async reportSinkRefused(message: string): Promise<void> {
    const stats: TriggerStats = {
      ...emptyTriggerStats(),
      error: message.slice(0, 500),
      // Waiting at start is no failed trigger (a sink refused outright ends in the engine's exit).
      waitedOut: true,
      sinkError: message.slice(0, MAX_SINK_ERROR),
    };
    await this.report(stats, Date.now(), { triggerExecution: 0 }).catch((e: Error) =>
      this.opts.log('warn', `sink refusal not reported: ${e.message}`),
    );
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
      const file = this.fileSpecs.get(topic);
      if (file) {
        // A file task's latest is what it took: files not yet listed have no offset.
        const s = stats.sources.get(topic)!;
        s.description = `FileStreamSource[${file.path}]`;
        for (const p of Object.keys(s.end)) s.latest[p] = s.end[p]!;
        continue;
      }
      // The trigger's own listing (Spark's semantics, task-batch.ts `listed`); a report without
      // one (a trigger that failed before listing, a refusal at start) asks the broker. If that
      // fails too, progress reports the end offsets as latest (no lag figure this batch) rather
      // than failing the batch, which is committed already; the next batch asks again.
      const b = stats.listed?.get(topic) ?? (await offsetBounds(this.admin, topic).catch(() => undefined));
      const s = stats.sources.get(topic)!;
      for (const p of Object.keys(s.end)) s.latest[p] = b?.get(Number(p))?.latest ?? s.end[p]!;
    }
    const stores = [...this.tasks.values()].filter((t) => t.state);
    if (stores.length > 0) {
      const s = stats.state ?? emptyStateTrigger(this.spec.options.numShufflePartitions);
      s.numRowsTotal = stores.reduce((n, t) => n + (t.state?.size ?? 0), 0);
      s.memoryUsedBytes = stores.reduce((n, t) => n + (t.state?.metrics().memoryUsedBytes ?? 0), 0);
      s.numStateStoreInstances = stores.length;
      stats.state = s;
    }
    const watermarks = [...this.tasks.values()]
      .map((t) => t.watermark?.watermarkMs)
      .filter((w): w is number => w !== undefined && w > 0);
    if (stats.batchIds.length > 0) this.lastBatchId = Math.max(...stats.batchIds);
    if ([...stats.sources.values()].some((s) => s.numInputRows > 0)) this.rowBatches++;
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
      operatorName:
        this.executor.kind === 'dedupe'
          ? 'dedupe'
          : this.executor.kind === 'join'
            ? 'symmetricHashJoin'
            : 'stateStoreSave',
      sinkDescription: this.sink.description,
      numOutputRows: stats.numOutputRows,
      sluice: {
        queryVersion: this.opts.queryVersion,
        instance: this.opts.instanceId,
        rateLimit: this.rateLimit,
        invalidRows: stats.invalidRows,
        ackedCommands: this.acked.splice(0),
        tasks: stats.tasks,
        sinkBatches: stats.sinkBatches,
        writtenOutputRows: stats.writtenOutputRows,
        deadLetteredOutputRows: stats.deadLetteredOutputRows,
        checkpointEpoch: this.opts.checkpointEpoch ?? 0,
        processRowBatches: this.rowBatches,
        ...(this.outsideTriggerMs !== undefined ? { outsideTriggerMs: this.outsideTriggerMs } : {}),
        ...(this.round ? { roundCpuMs: this.round.cpuMs, roundWallMs: this.round.wallMs } : {}),
        ...(this.continued ? { continued: this.continued } : {}),
        ...(stats.error !== undefined ? { error: stats.error } : {}),
        ...(stats.waitedOut ? { waitedOut: true } : {}),
        ...(stats.sinkError !== undefined ? { sinkError: stats.sinkError } : {}),
        ...(this.staticTable ? { staticTables: [this.staticTable.cache.status()] } : {}),
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
    // Unknown backlog reads as 0 for this progress event (a figure, not data: nothing is lost); the
    // next one asks the broker again.
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

  private async shutdown(): Promise<void> {
    this.opts.log('info', `stopping: ${this.stopReason}`);
    const began = performance.now();
    // Each step's time goes into the last log line: a drained instance's successor waits for this
    // process's exit (an upgrade's gap, a scale-in's pause), so where the time goes is worth a line.
    const took: string[] = [];
    const timed = async (what: string, step: () => Promise<unknown>): Promise<void> => {
      const t0 = performance.now();
      // Shutdown: every step runs even if an earlier one failed; what failed is logged, and the
      // checkpoint already holds everything a restart needs (nothing here writes state).
      await step().catch((e: Error) => this.opts.log('warn', `shutdown: ${what}: ${e.message}`));
      took.push(`${what} ${Math.round(performance.now() - t0)}`);
    };
    // Side by side: nothing runs any more, and the successor of a drained instance (an upgrade,
    // a scale-in) starts only once this process has exited, so every second here is output gap.
    await Promise.all([
      timed('source reader', async () => this.sourceReader?.stop()),
      timed('shuffle reader', async () => this.shuffleReader?.stop()),
      timed('tasks', () => Promise.all([...this.tasks.values()].map((rt) => this.dropTask(rt, 'shutdown')))),
      timed('control', async () => this.control?.stop()),
      timed('progress producer', async () => this.progressProducer?.disconnect()),
      timed('trigger producer', async () => this.outputLog?.closeShared()),
    ]);
    await timed('Kafka admin', async () => this.admin?.disconnect());
    await timed('sink', async () => this.sink?.close());
    await timed('state stores', async () => this.stateStores?.close());
    await timed('static table', async () => this.staticTable?.close());
    await timed('checkpoint', () => this.opts.checkpoint.close());
    this.opts.log('info', `shut down in ${Math.round(performance.now() - began)} ms (${took.join(', ')} ms)`);
  }
}
