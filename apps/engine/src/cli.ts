// `npm run -s engine -- <command>`: the streaming engine worker's command line.
//   validate --spec FILE   prints the compiled plan (exit 0) or FILE:LINE:COL errors (exit 1)
//   compat --from F --to F upgrade compatibility report (exit 0 / 3 incompatible / 1 invalid)
//   run ...                runs the query until drained (exit 0) or a fatal error (exit 1)
//   test --spec --input --expect  runs a query on test input with no broker (exit 0 equal / 1)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { checkpointScope, engineClientId } from '@sluice/contracts';
import { createKafka, parseBrokers } from '@sluice/kafka';
import { compileSpec, formatErrors } from '@sluice/query-plan';
import { loadStatefulFunction } from './exec/stateful-module';
import { openCheckpointStore } from './checkpoint/open-checkpoint-store';
import { compatCommand, COMPAT_USAGE } from './compat-command';
import { retryWhileUnavailable, StoppedWhileWaitingError } from './exec/database-outage';
import { parseTableUrls } from './source/static-table';
import { QueryRunner } from './exec/query-runner';
import { parseRunFlags } from './run-options';
import { testCommand, TEST_USAGE } from './query-test/test-command';

const USAGE = `usage: engine <command>
  validate --spec FILE
      compile a query spec; print the plan as JSON (exit 0) or FILE:LINE:COL errors (exit 1)
${COMPAT_USAGE}
${TEST_USAGE}
  run --spec FILE --checkpoint URI --query-id ID --brokers HOST:PORT[,...]
      [--instance-id ID] [--query-version N] [--rate-limit N] [--checkpoint-epoch N]
      [--starting-offsets earliest|latest | --continue-from-epoch N [--continue-from URI]]
      [--work-dir DIR] [--warm-up-records N]
      run a query (checkpoint URI: a directory, file://… or postgresql://…); a later checkpoint
      epoch is a fresh checkpoint beside the old ones (new-checkpoint upgrades), starting where
      --continue-from-epoch committed, or at --starting-offsets; --work-dir holds local files
      (an lmdb state store), default <tmpdir>/sluice-engine/<query-id>/<instance-id>;
      --warm-up-records runs N synthetic records through the batch path in memory before
      joining (default 5000, 0 = none; env SLUICE_WARMUP_RECORDS)`;

// Structured JSON logs (pino) on stdout; the runtime driver captures them per instance.
const logger = pino({ base: { service: 'sluice-engine' }, timestamp: pino.stdTimeFunctions.isoTime });

function log(level: 'info' | 'warn' | 'error', msg: string, extra: Record<string, unknown> = {}): void {
  logger[level](extra, msg);
}

function readSpec(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read spec ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function validate(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { spec: { type: 'string' } }, strict: true });
  if (!values.spec) throw new Error('validate: --spec FILE is required');
  const result = compileSpec(readSpec(values.spec), values.spec);
  if (!result.ok) {
    process.stderr.write(`${formatErrors(result.errors, values.spec)}\n`);
    return 1;
  }
  for (const w of result.warnings) process.stderr.write(`${values.spec}: warning: ${w}\n`);
  process.stdout.write(
    `${JSON.stringify({ name: result.spec.name, planHash: result.planHash, plan: result.plan }, null, 2)}\n`,
  );
  return 0;
}

async function run(argv: string[]): Promise<number> {
  // Node's start and the engine's module load, before anything else: the first figure of an
  // upgrade's hand-over (spawned → process up → connected → groups joined → first batch).
  log('info', 'engine process up', { uptimeMs: Math.round(process.uptime() * 1000) });
  // SIGTERM = drain: finish and commit the running batch, leave the group, exit 0. Installed
  // first, so a drain that arrives while the engine is still starting also ends cleanly.
  const started: { runner?: QueryRunner; stopRequested?: string } = {};
  const requestStop = (signal: string): void => {
    started.stopRequested = signal;
    started.runner?.stop(signal);
  };
  process.once('SIGTERM', () => requestStop('SIGTERM'));
  process.once('SIGINT', () => requestStop('SIGINT'));
  const flags = parseRunFlags(argv, process.env);
  // A pre-started engine is released by SIGUSR2 once its predecessor has exited; never released
  // (the upgrade failed or was given up), it stops cleanly after --standby seconds.
  let standby: Promise<void> | undefined;
  if (flags.standby !== undefined) {
    const seconds = flags.standby;
    standby = new Promise((resolve) => {
      const timer = setTimeout(() => requestStop(`not released within ${seconds} s`), seconds * 1000);
      process.once('SIGUSR2', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  const compiled = compileSpec(readSpec(flags.spec), flags.spec);
  if (!compiled.ok) {
    process.stderr.write(`${formatErrors(compiled.errors, flags.spec)}\n`);
    return 1;
  }
  const kafka = createKafka({
    brokers: parseBrokers(flags.brokers),
    clientId: engineClientId(flags['instance-id']),
    // Group membership changes (a member expelled, a rebalance) explain stalls and re-run
    // batches; the rest of kafkajs' warnings are retried noise.
    onLog: (level, message, extra) => {
      if (/group|member|rebalanc/i.test(message))
        log(level, `kafka: ${message}`, {
          ...(extra.groupId !== undefined ? { groupId: extra.groupId } : {}),
          ...(extra.error !== undefined ? { error: String(extra.error) } : {}),
        });
    },
  });
  const warn = (m: string): void => log('warn', m);
  const queryId = flags['query-id'];
  const open = (uri: string, epoch: number) =>
    retryWhileUnavailable(() => openCheckpointStore(uri, checkpointScope(queryId, epoch), warn), {
      what: 'checkpoint database',
      warn,
      stopped: () => started.stopRequested !== undefined,
    });
  let checkpoint;
  let continueFrom;
  try {
    checkpoint = await open(flags.checkpoint, flags['checkpoint-epoch']);
    const from = flags['continue-from-epoch'];
    if (from !== undefined)
      continueFrom = { epoch: from, store: await open(flags['continue-from'] ?? flags.checkpoint, from) };
  } catch (err) {
    if (!(err instanceof StoppedWhileWaitingError)) throw err;
    log('info', `engine stopped: ${err.message}`);
    return 0;
  }
  const statefulFunction = await loadStatefulFunction(
    compiled.plan,
    flags.spec,
    compiled.spec.stateful?.source,
  );
  const runner = new QueryRunner({
    ...(statefulFunction ? { statefulFunction } : {}),
    queryId: flags['query-id'],
    instanceId: flags['instance-id'],
    queryVersion: flags['query-version'],
    compiled,
    kafka,
    checkpoint,
    rateLimit: flags['rate-limit'] ?? null,
    checkpointEpoch: flags['checkpoint-epoch'],
    startingOffsets: flags['starting-offsets'],
    continueFrom,
    workDir: flags['work-dir'],
    warmupRecords: flags['warm-up-records'],
    // Only the sink connection the control plane resolved; never a DATABASE_URL that happens to be
    // in the environment (that was how a sink could reach the control plane's own tables).
    sinkPostgresUrl: process.env.SLUICE_SINK_POSTGRES_URL,
    tablePostgresUrls: parseTableUrls(process.env.SLUICE_TABLE_POSTGRES_URLS),
    fileSinkRoot: process.env.SLUICE_FILE_SINK_ROOT,
    standby,
    log,
  });
  started.runner = runner;
  if (started.stopRequested) runner.stop(started.stopRequested);
  try {
    await runner.run();
  } catch (err) {
    if (!(err instanceof StoppedWhileWaitingError)) throw err;
    log('info', `engine stopped: ${err.message}`);
    return 0;
  }
  log('info', 'engine stopped cleanly');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'validate') return validate(rest);
  if (command === 'compat')
    return compatCommand(rest, {
      readSpec,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  if (command === 'run') return run(rest);
  if (command === 'test')
    return testCommand(rest, {
      readSpec,
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    });
  process.stderr.write(`engine: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`engine: ${err.message}\n`);
    process.exit(1);
  },
);
