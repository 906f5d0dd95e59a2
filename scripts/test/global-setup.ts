// Vitest global setup for integration suites: make sure the project's stack is up and migrated,
// and hand its connection settings to the test workers through the environment.
import { loadStackConfig, stackEnv } from '../stack/config';
import { stackUp } from '../stack/stack';
import { applyMigrations } from '../../prisma/migrate';

export default async function setup(): Promise<void> {
  const config = loadStackConfig();
  await stackUp((m) => process.stderr.write(`[stack] ${m}\n`), config);
  const env = stackEnv(config);
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  await applyMigrations(process.env.DATABASE_URL ?? env.DATABASE_URL);
}
