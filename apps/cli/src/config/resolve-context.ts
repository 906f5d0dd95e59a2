// Which control plane and token a command uses: SLUICE_URL / SLUICE_TOKEN override the file
// (CI jobs need no file at all), `--context NAME` picks a stored context, else the current one.
import { CliError } from '../exit-codes';
import type { ConfigFile } from './config-file';

export interface Target {
  url: string;
  token: string;
  /** Where the values came from, for messages: a context name or "environment". */
  source: string;
}

export function resolveTarget(config: ConfigFile, env: NodeJS.ProcessEnv, contextName?: string): Target {
  const name = contextName ?? config.currentContext ?? undefined;
  const ctx = name ? config.contexts.find((c) => c.name === name) : undefined;
  if (contextName && !ctx)
    throw new CliError(
      `no context named "${contextName}" (known: ${config.contexts.map((c) => c.name).join(', ') || 'none'})`,
    );
  const url = env.SLUICE_URL?.trim() || ctx?.url;
  const token = env.SLUICE_TOKEN?.trim() || ctx?.token;
  if (!url || !token)
    throw new CliError(
      'not logged in: run `sluice login --url URL --token-stdin` (or set SLUICE_URL and SLUICE_TOKEN)',
    );
  const fromEnv = Boolean(env.SLUICE_URL?.trim() || env.SLUICE_TOKEN?.trim());
  return { url: url.replace(/\/+$/, ''), token, source: fromEnv ? 'environment' : `context ${ctx?.name}` };
}
