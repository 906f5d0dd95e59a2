// Flags of `engine run`, validated up front so a bad flag is a one-line error, not a crash.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_WARMUP_RECORDS, MAX_WARMUP_RECORDS } from './exec/batch-path-warmup';

const runFlagsSchema = z.object({
  spec: z.string().min(1, '--spec FILE is required'),
  checkpoint: z.string().min(1, '--checkpoint URI is required'),
  'query-id': z.string().regex(/^[A-Za-z0-9._-]+$/, '--query-id must be letters, digits, ".", "_" or "-"'),
  'instance-id': z.string().min(1),
  brokers: z.string().min(1, '--brokers host:port[,host:port] is required'),
  'query-version': z.coerce.number().int().positive(),
  'rate-limit': z.coerce.number().int().positive().optional(),
  /** Checkpoint lineage (ARCHITECTURE.md, "Upgrades"): 0 is the query's first checkpoint. */
  'checkpoint-epoch': z.coerce.number().int().nonnegative().default(0),
  /** Where a task with no checkpoint history starts, overriding the spec's startingOffsets. */
  'starting-offsets': z.enum(['earliest', 'latest']).optional(),
  /**
   * Start a fresh checkpoint where the checkpoint of this epoch committed (a `continue`
   * upgrade): source partitions it never read start at their earliest offset.
   */
  'continue-from-epoch': z.coerce.number().int().nonnegative().optional(),
  /** Location of that checkpoint; the --checkpoint URI when absent (a PostgreSQL store). */
  'continue-from': z.string().min(1).optional(),
  /**
   * Pre-started for an upgrade (ARCHITECTURE.md, "Upgrades"): connect and prepare, then wait for
   * SIGUSR2 (the predecessor has exited) before touching the checkpoint, the groups or a
   * transactional producer. Exits 0 after this many seconds without it (an upgrade given up).
   */
  standby: z.coerce.number().int().positive().max(3600).optional(),
  /**
   * This instance's local working folder: an `lmdb` state store's files (a cache of the
   * checkpoint, rebuilt from it when missing). Default `<tmpdir>/sluice-engine/<query>/<instance>`.
   */
  'work-dir': z.string().min(1),
  /** Synthetic records the batch path runs before the groups are joined (exec/batch-path-warmup.ts). */
  'warm-up-records': z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_WARMUP_RECORDS, `must be at most ${MAX_WARMUP_RECORDS}`)
    .default(DEFAULT_WARMUP_RECORDS),
});

/** An id as one folder name (no separators, never `.` or `..`). */
const pathSafe = (id: string): string => id.replace(/[^A-Za-z0-9_-]/g, '_');

export type RunFlags = z.infer<typeof runFlagsSchema>;

export function parseRunFlags(argv: string[], env: NodeJS.ProcessEnv): RunFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      spec: { type: 'string' },
      checkpoint: { type: 'string' },
      'query-id': { type: 'string' },
      'instance-id': { type: 'string' },
      brokers: { type: 'string' },
      'query-version': { type: 'string' },
      'rate-limit': { type: 'string' },
      'checkpoint-epoch': { type: 'string' },
      'starting-offsets': { type: 'string' },
      'continue-from-epoch': { type: 'string' },
      'continue-from': { type: 'string' },
      standby: { type: 'string' },
      'work-dir': { type: 'string' },
      'warm-up-records': { type: 'string' },
    },
    strict: true,
  });
  const merged = {
    ...values,
    brokers: values.brokers ?? env.KAFKA_BROKERS,
    'instance-id': values['instance-id'] ?? `${values['query-id'] ?? 'query'}-0`,
    'query-version': values['query-version'] ?? env.SLUICE_QUERY_VERSION ?? '1',
    'rate-limit': values['rate-limit'] ?? env.SLUICE_RATE_LIMIT,
    'warm-up-records': values['warm-up-records'] ?? env.SLUICE_WARMUP_RECORDS,
    'work-dir': path.resolve(
      values['work-dir'] ??
        path.join(
          os.tmpdir(),
          'sluice-engine',
          pathSafe(values['query-id'] ?? 'query'),
          pathSafe(values['instance-id'] ?? `${values['query-id'] ?? 'query'}-0`),
        ),
    ),
  };
  const parsed = runFlagsSchema
    .refine((f) => f['continue-from-epoch'] === undefined || f['starting-offsets'] === undefined, {
      message: '--starting-offsets and --continue-from-epoch exclude each other',
      path: ['starting-offsets'],
    })
    .refine(
      (f) => f['continue-from-epoch'] === undefined || f['continue-from-epoch'] !== f['checkpoint-epoch'],
      {
        message: 'a checkpoint cannot continue from itself',
        path: ['continue-from-epoch'],
      },
    )
    .refine((f) => f['continue-from'] === undefined || f['continue-from-epoch'] !== undefined, {
      message: '--continue-from needs --continue-from-epoch',
      path: ['continue-from'],
    })
    .safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      issue ? `${issue.path.length ? `--${issue.path.join('.')}: ` : ''}${issue.message}` : 'invalid flags',
    );
  }
  return parsed.data;
}
