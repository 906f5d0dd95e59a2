// `npm run db:generate`: generates the Prisma client offline. `prisma generate` only needs the
// schema engine path to exist (it never runs it), so any existing file stands in for the binary
// that would otherwise be downloaded.
import { spawnSync } from 'node:child_process';

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
};
const r = spawnSync('npx', ['prisma', 'generate'], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
