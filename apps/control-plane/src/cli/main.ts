// `npm run cli -- <command>`: administrative commands that work without a running API.
//   token create --role admin|operator|viewer [--name NAME]   prints the new token once
import os from 'node:os';
import { parseArgs } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import type { Actor } from '../auth/actor';
import { isRole } from '../auth/roles';
import { publicView } from '../tokens/token-view';
import { hashToken, newTokenSecret, tokenPrefix } from '../auth/token-secret';
import { ConfigError, loadAppConfig } from '../config/app-config';

/**
 * The CLI talks to the database directly, with no token: the audit row names the operating-system
 * account that ran it (from the process's uid, not $USER, which is often unset under sudo or CI).
 */
function osActor(): Actor {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return { id: `os/${user}`, name: `cli:${user}` };
}

const USAGE = 'usage: cli token create --role admin|operator|viewer [--name NAME]';

async function tokenCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { role: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (!values.role || !isRole(values.role)) {
    process.stderr.write(
      `cli: --role must be admin, operator or viewer (got ${values.role ?? 'nothing'})\n${USAGE}\n`,
    );
    return 2;
  }
  const config = loadAppConfig();
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: config.DATABASE_URL }) });
  try {
    const secret = newTokenSecret();
    const name = values.name ?? `cli-${values.role}`;
    const token = await prisma.apiToken.create({
      data: {
        name,
        role: values.role,
        tokenHash: hashToken(secret),
        prefix: tokenPrefix(secret),
        origin: 'cli',
      },
    });
    const actor = osActor();
    await prisma.auditLog.create({
      data: {
        actor: actor.name,
        actorId: actor.id,
        action: 'token.create',
        target: `token/${token.id}`,
        after: publicView(token),
      },
    });
    process.stdout.write(`${secret}\n`);
    process.stderr.write(
      `created ${values.role} token "${name}" (${token.id}); store it now, it is not shown again\n`,
    );
    return 0;
  } finally {
    await prisma.$disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'token' && command === 'create') return tokenCreate(rest);
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const msg = e instanceof ConfigError || e instanceof Error ? e.message : String(e);
    process.stderr.write(`cli: ${msg}\n`);
    process.exit(1);
  },
);
