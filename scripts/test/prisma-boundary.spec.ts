// Issue 13: the control plane's services and controllers read and write through repositories with
// domain methods, never through the Prisma client itself. A source of apps/control-plane/src that
// is not a repository (under repositories/ or named *.repository.ts) must not import the client
// (PrismaRepository, PrismaClient) nor run SQL or transactions on it ($queryRaw…, $executeRaw…,
// $transaction). Type-only imports of the generated model types stay allowed: they are the rows
// the repositories return.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'apps', 'control-plane', 'src');

/** Known exceptions, each with its reason (paths relative to apps/control-plane/src). */
const ALLOWED: Record<string, string> = {
  // /readyz pings the client itself, as it pings Redis and Kafka through their adapters.
  'health/dependency.health.ts': 'readiness ping of the database client',
  // The offline CLI (`npm run cli -- token create`) opens its own client: no Nest app, no DI.
  'cli/main.ts': 'offline CLI',
};

const CLIENT_IMPORT =
  /import\s+(?:type\s+)?\{[^}]*\b(?:PrismaRepository|PrismaClient)\b[^}]*\}\s+from\s+'[^']*(?:prisma\.repository|generated\/prisma\/client)'/;
const RAW_CALL = /\.\$(?:queryRaw|queryRawUnsafe|executeRaw|executeRawUnsafe|transaction)\b/;

function sources(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'generated') continue;
      sources(p, out);
    } else if (/\.ts$/.test(e.name) && !/\.(spec|test)\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

export function isRepository(rel: string): boolean {
  return rel.startsWith('repositories/') || rel.endsWith('.repository.ts');
}

/** What `text` (the source at `rel`) does with the client that only a repository may do. */
export function clientUses(rel: string, text: string): string[] {
  if (isRepository(rel)) return [];
  const found: string[] = [];
  if (CLIENT_IMPORT.test(text)) found.push(`${rel}: imports the Prisma client`);
  const line = text.split('\n').findIndex((l) => RAW_CALL.test(l));
  if (line >= 0) found.push(`${rel}:${line + 1}: runs SQL or a transaction on the client`);
  return found;
}

describe('Prisma stays behind the repositories', () => {
  it('the check finds a service importing or querying the client, and lets a repository do it', () => {
    const service = [
      "import { Injectable } from '@nestjs/common';",
      "import { PrismaRepository } from '../repositories/prisma.repository';",
      'export class X { f() { return this.prisma.$queryRawUnsafe(`SELECT 1`); } }',
    ].join('\n');
    expect(clientUses('queries/x.service.ts', service)).toEqual([
      'queries/x.service.ts: imports the Prisma client',
      'queries/x.service.ts:3: runs SQL or a transaction on the client',
    ]);
    expect(
      clientUses(
        'audit/x.controller.ts',
        "import type {\n  PrismaRepository,\n} from '../repositories/prisma.repository';",
      ),
    ).toEqual(['audit/x.controller.ts: imports the Prisma client']);
    expect(clientUses('audit/audit.repository.ts', service)).toEqual([]);
    expect(clientUses('repositories/query.repository.ts', service)).toEqual([]);
    // Row types are what repositories hand out: a type import of them is no client use.
    expect(
      clientUses('queries/query-view.ts', "import type { Query } from '../generated/prisma/client';"),
    ).toEqual([]);
  });

  it('no control-plane service, controller or helper uses the client outside the repositories', () => {
    const found = sources(SRC)
      .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
      .filter((rel) => !(rel in ALLOWED))
      .flatMap((rel) => clientUses(rel, fs.readFileSync(path.join(SRC, rel), 'utf8')));
    expect(found).toEqual([]);
  });

  it('every listed exception still exists and still needs its exception', () => {
    const stale = Object.keys(ALLOWED).filter((rel) => {
      const file = path.join(SRC, rel);
      if (!fs.existsSync(file)) return true;
      const text = fs.readFileSync(file, 'utf8');
      return clientUses(rel, text).length === 0;
    });
    expect(stale).toEqual([]);
  });
});
