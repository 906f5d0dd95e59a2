// Vitest global setup (runs once per `vitest run`): when any integration suite is selected, make
// sure the project's stack is up and migrated, and hand its connection settings to the workers.
import type { TestProject } from 'vitest/node';
import { loadStackConfig, stackEnv } from '../stack/config';
import { stackUp } from '../stack/stack';
import { applyMigrations } from '../../prisma/migrate';

export default async function setup(project: TestProject): Promise<void> {
  const selected = project.vitest.projects.map((p) => p.name);
  if (!selected.some((name) => name.endsWith('-int'))) return;
  const config = loadStackConfig();
  await stackUp((m) => process.stderr.write(`[stack] ${m}\n`), config);
  const env = stackEnv(config);
  for (const [k, v] of Object.entries(env)) process.env[k] ??= v;
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  await applyMigrations(process.env.DATABASE_URL ?? env.DATABASE_URL);
}
