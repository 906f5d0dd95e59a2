// Flags of `engine run`, validated up front so a bad flag is a one-line error, not a crash.
import { parseArgs } from 'node:util';
import { z } from 'zod';

const runFlagsSchema = z.object({
  spec: z.string().min(1, '--spec FILE is required'),
  checkpoint: z.string().min(1, '--checkpoint URI is required'),
  'query-id': z.string().regex(/^[A-Za-z0-9._-]+$/, '--query-id must be letters, digits, ".", "_" or "-"'),
  'instance-id': z.string().min(1),
  brokers: z.string().min(1, '--brokers host:port[,host:port] is required'),
  'query-version': z.coerce.number().int().positive(),
  'rate-limit': z.coerce.number().int().positive().optional(),
});

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
    },
    strict: true,
  });
  const merged = {
    ...values,
    brokers: values.brokers ?? env.KAFKA_BROKERS,
    'instance-id': values['instance-id'] ?? `${values['query-id'] ?? 'query'}-0`,
    'query-version': values['query-version'] ?? env.SLUICE_QUERY_VERSION ?? '1',
    'rate-limit': values['rate-limit'] ?? env.SLUICE_RATE_LIMIT,
  };
  const parsed = runFlagsSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      issue ? `${issue.path.length ? `--${issue.path.join('.')}: ` : ''}${issue.message}` : 'invalid flags',
    );
  }
  return parsed.data;
}
