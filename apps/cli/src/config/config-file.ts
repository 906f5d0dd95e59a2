// The contexts file, $XDG_CONFIG_HOME/sluice/config.yaml (~/.config/sluice/config.yaml when the
// variable is unset). It holds API tokens, so it is written 0600 in a 0700 folder, and a file
// found readable by others is narrowed back to 0600 with a warning (a copy or an editor may have
// widened it) before its tokens are used.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { CliError } from '../exit-codes';

export interface Context {
  name: string;
  url: string;
  token: string;
}

export interface ConfigFile {
  currentContext: string | null;
  contexts: Context[];
}

/** Larger than any real file (a few hundred bytes per context); bounds what a stray file costs. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'sluice', 'config.yaml');
}

export function readConfig(file: string, warn: (msg: string) => void): ConfigFile {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { currentContext: null, contexts: [] };
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (stat.size > MAX_CONFIG_BYTES)
    throw new CliError(`${file} is larger than 1 MiB: not a sluice config file`);
  if ((stat.mode & 0o077) !== 0) {
    warn(
      `${file} was readable by other users (mode ${(stat.mode & 0o777).toString(8)}); changed it to 600 — rotate its tokens if others may have read them`,
    );
    fs.chmodSync(file, 0o600);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CliError(
      `${file} is not valid YAML (${(e as Error).message}); fix it or remove it and log in again`,
    );
  }
  return parseConfig(raw, file);
}

function parseConfig(raw: unknown, file: string): ConfigFile {
  if (raw === null || raw === undefined) return { currentContext: null, contexts: [] };
  const bad = (what: string) => new CliError(`${file}: ${what}; fix it or remove it and log in again`);
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad('expected a mapping');
  const obj = raw as Record<string, unknown>;
  const list = obj.contexts ?? [];
  if (!Array.isArray(list)) throw bad('`contexts` must be a list');
  const contexts = list.map((c, i): Context => {
    const ctx = c as Record<string, unknown> | null;
    if (!ctx || typeof ctx.name !== 'string' || typeof ctx.url !== 'string' || typeof ctx.token !== 'string')
      throw bad(`contexts[${i}] needs string fields name, url and token`);
    return { name: ctx.name, url: ctx.url, token: ctx.token };
  });
  const current = obj['current-context'];
  return { currentContext: typeof current === 'string' ? current : null, contexts };
}

/** Writes atomically (temp file + rename), 0600 from the first byte. */
export function writeConfig(file: string, config: ConfigFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const text = YAML.stringify({
    'current-context': config.currentContext,
    contexts: config.contexts.map((c) => ({ name: c.name, url: c.url, token: c.token })),
  });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600); // the umask never widens it, but an existing temp file might have been
  fs.renameSync(tmp, file);
}

/** Adds or replaces the context of that name and makes it current. */
export function upsertContext(config: ConfigFile, ctx: Context): ConfigFile {
  const others = config.contexts.filter((c) => c.name !== ctx.name);
  return { currentContext: ctx.name, contexts: [...others, ctx] };
}
