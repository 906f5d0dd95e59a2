// Runs a query over test input with no broker: the engine's own trigger planner, stages, state
// store, watermark tracker, checkpoint (a directory) and recovery, with the broker and the sink
// in memory (MemoryBroker, MemorySink). Each input batch is appended to the source topic, then
// triggers run until none has work left — the no-data batch a moved watermark asks for
// included, as Spark's testStream does with processAllAvailable — and what the sink committed
// is that batch's output. `# restart` stops the query (tasks released, in-memory state
// dropped) and starts a new one on the same checkpoint, which recovers from it.
import {
  instantiate,
  type CompileResult,
  type QueryExecutor,
  type Row,
  type SourceSpec,
} from '@sluice/query-plan';
import { CheckpointStore } from '../checkpoint/checkpoint-store';
import { FileBlobStore } from '../checkpoint/file-blob-store';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../exec/kafka-limits';
import { NEW_CHECKPOINT_REPARTITION_FORMAT, repartitionFormatOf } from '../exec/shuffle-codec';
import { emptyTriggerStats, runTaskBatch, type BatchContext } from '../exec/task-batch';
import { TaskCommitter } from '../exec/task-committer';
import {
  flushCommitLog,
  recoverTask,
  shuffleTaskId,
  sourceTaskId,
  type Stage,
  type TaskRuntime,
} from '../exec/task-runtime';
import { diffAssignment, planTrigger } from '../exec/trigger-planner';
import { kafkaGroupTarget } from '../sinks/sink';
import { openStateStoreProvider, type StateStoreProvider } from '../state/state-store-provider';
import { MemoryBroker, MemorySource } from './memory-broker';
import { MemorySink } from './memory-sink';
import { StaticTableCache } from '../source/static-table';
import { joinWatermarkSources } from '../exec/join-stage';
import type { WatermarkSpec } from '../offsets/watermark-tracker';
import { loadStatefulFunction } from '../exec/stateful-module';
import type { ProducedBatch } from './compare-output';
import type { InputBatch } from './test-files';

type Compiled = Extract<CompileResult, { ok: true }>;

const QUERY_ID = 'engine-test';
const DLQ_TOPIC = 'engine-test.dlq';
const REPARTITION_TOPIC = 'engine-test.repartition';
/** A batch that still has work after this many triggers is a bug, not a slow test. */
const MAX_TRIGGERS_PER_BATCH = 10_000;

export interface DeadLetterNote {
  batch: number;
  /** Input line of the record; undefined for an aggregated row. */
  line: number | undefined;
  reason: string;
}

export interface QueryTestResult {
  produced: ProducedBatch[];
  deadLetters: DeadLetterNote[];
}

/** One engine instance over the memory broker; `# restart` replaces it with a new one. */
class TestInstance {
  readonly tasks = new Map<string, TaskRuntime>();
  private lastTriggerMs = 0;

  constructor(
    private readonly ctx: BatchContext,
    private readonly broker: MemoryBroker,
    private readonly executor: QueryExecutor,
    private readonly watermarkDelayMs: number | undefined,
    private readonly rateLimit: number | null,
    private readonly stateStores: StateStoreProvider,
    private readonly watermarkSources?: WatermarkSpec[],
  ) {}

  async start(): Promise<void> {
    const wanted = new Map<string, { stage: Stage; topic: string; partition: number }>();
    for (const tp of this.ctx.source.assignment('source'))
      wanted.set(sourceTaskId(tp.topic, tp.partition), { stage: 'source', ...tp });
    for (const tp of this.ctx.source.assignment('shuffle'))
      wanted.set(shuffleTaskId(tp.partition), { stage: 'shuffle', ...tp });
    for (const [id, w] of diffAssignment(this.tasks.keys(), wanted).add) {
      const stateful = this.ctx.repartitionTopic !== undefined;
      const committer = new TaskCommitter(
        this.broker,
        id,
        w.stage === 'source' && stateful ? kafkaGroupTarget : this.ctx.sink,
        `${QUERY_ID}-${w.stage}`,
        this.ctx.checkpoint,
      );
      this.tasks.set(
        id,
        await recoverTask({
          checkpoint: this.ctx.checkpoint,
          committer,
          stage: w.stage,
          topic: w.topic,
          partition: w.partition,
          stateOperator: w.stage === 'shuffle' ? this.executor.kind : undefined,
          stateStores: this.stateStores,
          watermarkDelayMs: w.stage === 'shuffle' ? this.watermarkDelayMs : undefined,
          ...(w.stage === 'shuffle' && this.watermarkSources
            ? { watermarkSources: this.watermarkSources }
            : {}),
        }),
      );
    }
  }

  /** Runs triggers until no task has work; returns how many ran. */
  async runUntilIdle(): Promise<number> {
    for (let n = 0; n < MAX_TRIGGERS_PER_BATCH; n++) {
      const bounds = new Map<string, Map<number, { earliest: number; latest: number }>>();
      for (const rt of this.tasks.values())
        if (!bounds.has(rt.topic)) bounds.set(rt.topic, await this.ctx.source.bounds(rt.topic));
      const nowMs = Date.now();
      const plan = planTrigger({
        tasks: [...this.tasks.values()].map((rt) => ({ ...rt, watermarkMs: rt.watermark?.watermarkMs })),
        bounds,
        sourcesPaused: false,
        rateLimit: this.rateLimit,
        totalSourcePartitions: this.ctx.source.assignment('source').length,
        // A test batch always runs: no waiting for enough offsets.
        minOffsetsPerTrigger: null,
        maxTriggerDelayMs: 0,
        failOnDataLoss: true,
        firstOffset: (_t, _p, b) => b.earliest,
        maxShuffleRecordsPerBatch: 200_000,
        maxRecordsPerTask: null,
        queryVersion: 1,
        nowMs,
        lastTriggerMs: this.lastTriggerMs,
      });
      this.lastTriggerMs = plan.lastTriggerMs;
      for (const [task, start] of plan.nextStarts) {
        const rt = this.tasks.get(task);
        if (rt) rt.nextStart = start;
      }
      if (plan.runs.length === 0) return n;
      // One task after another: a test's output must not depend on timing.
      for (const { task, entry } of plan.runs) {
        const rt = this.tasks.get(task)!;
        try {
          await runTaskBatch(this.ctx, rt, entry, emptyTriggerStats(), {});
        } catch (err) {
          rt.watermark?.discardBatch();
          throw err;
        }
      }
    }
    throw new Error(`the query still had work after ${MAX_TRIGGERS_PER_BATCH} triggers`);
  }

  /** The query's watermark as progress reports it: the minimum over tasks that have one. */
  watermarkMs(): number | undefined {
    const marks = [...this.tasks.values()]
      .map((t) => t.watermark?.watermarkMs)
      .filter((w): w is number => w !== undefined && w > 0);
    if (marks.length > 0) return Math.min(...marks);
    return this.watermarkDelayMs !== undefined ? 0 : undefined;
  }

  async stop(): Promise<void> {
    for (const rt of this.tasks.values()) {
      rt.state?.abort();
      await rt.state?.flushMaintenance();
      await rt.state?.close();
      await flushCommitLog(rt);
      await rt.committer.close();
    }
    this.tasks.clear();
  }
}

export async function runQueryTest(args: {
  compiled: Compiled;
  /** The spec's path: a stateful function's module is resolved against its folder. */
  specFile: string;
  batches: InputBatch[];
  checkpointDir: string;
  /** The instance's local working folder (an `lmdb` state store's files); never the checkpoint. */
  workDir: string;
  /** Rows of the tables of a stream–static join, by the spec's table name (--table). */
  tables?: ReadonlyMap<string, Row[]>;
  progress: (msg: string) => void;
}): Promise<QueryTestResult> {
  const { compiled, batches } = args;
  const spec = compiled.spec;
  const sources = Object.entries(spec.sources);
  const source = sources[0]![1];
  const statefulFunction = await loadStatefulFunction(compiled.plan, args.specFile, spec.stateful?.source);
  const executor = instantiate(compiled.plan, statefulFunction ? { statefulFunction } : {});
  // A file source's lines are records of an in-memory topic of its own (task ids allow no `/`).
  const memoryTopic = (name: string, s: SourceSpec): string => s.kafka?.topic ?? `files.${name}`;
  // Which topic an input record goes to: its `# source`, or the spec's only source.
  const topicOf = (name: string | undefined, line: number): string => {
    if (name === undefined) {
      if (sources.length === 1) return memoryTopic(sources[0]![0], source);
      throw new Error(
        `input line ${line}: the spec has ${sources.length} sources (${sources.map(([n]) => n).join(', ')}); name one with "# source <name>" above the records`,
      );
    }
    const s = spec.sources[name];
    if (!s)
      throw new Error(`input line ${line}: unknown source "${name}" (${sources.map(([n]) => n).join(', ')})`);
    return memoryTopic(name, s);
  };
  const stateful = executor.kind !== 'stateless';
  const n = spec.options.numShufflePartitions;

  const broker = new MemoryBroker();
  const topics = sources.map(([name, s]) => memoryTopic(name, s));
  for (const topic of topics) broker.createTopic(topic, 1);
  broker.createTopic(DLQ_TOPIC, 1);
  if (stateful) broker.createTopic(REPARTITION_TOPIC, n);
  const sink = new MemorySink(executor.output);
  const staticTable = staticTableOf(compiled, executor, args.tables, args.progress);
  const checkpoint = new CheckpointStore(new FileBlobStore(args.checkpointDir), args.checkpointDir);
  const metadata = await checkpoint.initMetadata({
    queryId: QUERY_ID,
    created: new Date().toISOString(),
    planHash: compiled.planHash,
    numShufflePartitions: n,
    repartitionFormat: NEW_CHECKPOINT_REPARTITION_FORMAT,
  });
  await checkpoint.writePlan(1, { plan: compiled.plan, planHash: compiled.planHash });
  const ctx: BatchContext = {
    queryId: QUERY_ID,
    checkpoint,
    source: new MemorySource(broker, topics, stateful ? REPARTITION_TOPIC : undefined),
    sink,
    executor,
    outputMode: spec.outputMode,
    numShufflePartitions: n,
    sourceByTopic: new Map<string, SourceSpec>(sources.map(([name, s]) => [memoryTopic(name, s), s])),
    columns: executor.output,
    guard: sink.guard,
    dlqTopic: DLQ_TOPIC,
    repartitionTopic: stateful ? REPARTITION_TOPIC : undefined,
    repartitionFormat: repartitionFormatOf(metadata),
    topicLimit: () => DEFAULT_MAX_MESSAGE_BYTES,
    log: (_level, msg) => args.progress(`warning: ${msg}`),
    ...(staticTable ? { staticTable: () => staticTable.index } : {}),
  };
  // One provider for the whole run, like one engine process: `# restart` reopens its stores.
  const stateStores = await openStateStoreProvider(
    spec.options.stateStore ?? 'memory',
    checkpoint,
    args.workDir,
  );
  const newInstance = () =>
    new TestInstance(
      ctx,
      broker,
      executor,
      sources.find(([, s]) => s.watermark)?.[1].watermark?.delayMs,
      spec.options.maxOffsetsPerTrigger ?? null,
      stateStores,
      joinWatermarkSources(executor, spec.sources),
    );

  const lineOfOffset = new Map<string, number>();
  const produced: ProducedBatch[] = [];
  const deadLetters: DeadLetterNote[] = [];
  let dlqSeen = 0;
  let instance = newInstance();
  await instance.start();
  try {
    for (const [b, batch] of batches.entries()) {
      for (const r of batch.records) {
        const topic = topicOf(r.source, r.line);
        lineOfOffset.set(`${topic}:${broker.append(topic, 0, Buffer.from(r.value, 'utf8'))}`, r.line);
      }
      let triggers: number;
      try {
        await staticTable?.ensureFresh(Date.now());
        triggers = await instance.runUntilIdle();
      } catch (err) {
        throw new Error(`batch ${b}: the query failed: ${(err as Error).message}`);
      }
      const rows = sink.take();
      produced.push({ rows, watermarkMs: instance.watermarkMs() });
      const dlq = broker.records(DLQ_TOPIC);
      for (const rec of dlq.slice(dlqSeen)) {
        const letter = JSON.parse(rec.value?.toString('utf8') ?? '{}') as {
          reason?: string;
          source?: { topic: string; offset: number } | null;
        };
        deadLetters.push({
          batch: b,
          line: letter.source
            ? lineOfOffset.get(`${letter.source.topic}:${letter.source.offset}`)
            : undefined,
          reason: letter.reason ?? '(no reason)',
        });
      }
      dlqSeen = dlq.length;
      args.progress(
        `batch ${b + 1}/${batches.length}: ${batch.records.length} record(s) in, ${rows.length} row(s) out, ${triggers} trigger(s)`,
      );
      if (batch.restartAfter) {
        await instance.stop();
        instance = newInstance();
        await instance.start();
        args.progress(`restarted from the checkpoint after batch ${b + 1}`);
      }
    }
  } finally {
    await instance.stop();
    await stateStores.close();
    await checkpoint.close();
  }
  return { produced, deadLetters };
}

/** The cache of the plan's joined table over its --table rows (the same cache as the engine's). */
function staticTableOf(
  compiled: Compiled,
  executor: QueryExecutor,
  tables: ReadonlyMap<string, Row[]> | undefined,
  progress: (msg: string) => void,
): StaticTableCache | undefined {
  const join = executor.staticJoin;
  if (!join) return undefined;
  const spec = compiled.spec.tables?.[join.table];
  const rows = tables?.get(join.table);
  if (!spec || !rows)
    throw new Error(
      `the query joins table "${join.table}": give its rows with --table ${join.table}=ROWS.jsonl`,
    );
  return new StaticTableCache(join.table, spec, join, () => Promise.resolve(rows), progress);
}
