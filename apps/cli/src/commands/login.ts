// `sluice login` and `sluice context`: where the contexts file is, what is in it, which is current.
import type { Command } from 'commander';
import { ApiClient } from '../api/client';
import { readConfig, upsertContext, writeConfig, type Context } from '../config/config-file';
import { CliError, usageError } from '../exit-codes';
import { renderTable } from '../output/table';
import { Session, type Io } from '../session';

/** A token is one line; anything longer than this on stdin is not one. */
const MAX_TOKEN_BYTES = 4096;

export function registerLogin(program: Command, io: Io): void {
  program
    .command('login')
    .description('store a control plane URL and API token as a context (and make it current)')
    .requiredOption('--url <url>', 'control plane base URL, e.g. http://127.0.0.1:4400')
    .option('--token-stdin', 'read the token from standard input (scripts; keeps it out of shell history)')
    .option('--name <context>', 'context name (default: host:port of the URL)')
    .action(async (opts: { url: string; tokenStdin?: boolean; name?: string }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const url = parseUrl(opts.url);
      const token = opts.tokenStdin ? await readAll(io.stdin) : await promptToken(s);
      if (!token) throw usageError('no token given: pipe it to `sluice login --url URL --token-stdin`');
      const name = opts.name ?? url.host;
      const ctx: Context = { name, url: url.origin + url.pathname.replace(/\/+$/, ''), token };
      // Proves both the URL and the token before anything is stored (any role may list queries).
      await new ApiClient({ url: ctx.url, token, source: `login --url ${ctx.url}` }).get('/api/v1/queries', {
        signal: io.signal,
      });
      const file = s.configFile;
      writeConfig(
        file,
        upsertContext(
          readConfig(file, (m) => s.warn(m)),
          ctx,
        ),
      );
      s.print(
        { context: name, url: ctx.url, config: file },
        () => `logged in to ${ctx.url} as context "${name}" (${file})\n`,
      );
    });

  const context = program
    .command('context')
    .description('list the stored contexts, or switch with `context use NAME`')
    .action((_opts: unknown, cmd: Command) => listContexts(Session.of(cmd, io)));
  context
    .command('list')
    .description('list the stored contexts (* = current)')
    .action((_opts: unknown, cmd: Command) => listContexts(Session.of(cmd, io)));
  context
    .command('use')
    .description('make a stored context the current one')
    .argument('<name>', 'context name')
    .action((name: string, _opts: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const config = readConfig(s.configFile, (m) => s.warn(m));
      if (!config.contexts.some((c) => c.name === name))
        throw new CliError(
          `no context named "${name}" (known: ${config.contexts.map((c) => c.name).join(', ') || 'none'}); add one with \`sluice login\``,
        );
      writeConfig(s.configFile, { ...config, currentContext: name });
      s.print({ currentContext: name }, () => `switched to context "${name}"\n`);
    });
}

function listContexts(s: Session): void {
  const config = readConfig(s.configFile, (m) => s.warn(m));
  // Never the tokens themselves: the first characters are enough to tell them apart.
  const rows = config.contexts.map((c) => ({
    current: c.name === config.currentContext,
    name: c.name,
    url: c.url,
    token: `${c.token.slice(0, 6)}…`,
  }));
  if (s.io.env.SLUICE_URL || s.io.env.SLUICE_TOKEN)
    s.warn('SLUICE_URL / SLUICE_TOKEN are set and override the current context');
  s.print({ currentContext: config.currentContext, contexts: rows }, () =>
    rows.length === 0
      ? `no contexts in ${s.configFile}; add one with \`sluice login --url URL --token-stdin\`\n`
      : renderTable(rows, [
          { header: '', value: (r) => (r.current ? '*' : '') },
          { header: 'name', value: (r) => r.name },
          { header: 'url', value: (r) => r.url },
          { header: 'token', value: (r) => r.token },
        ]),
  );
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--url must be an http(s) URL such as http://127.0.0.1:4400 (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw usageError(`--url must be http:// or https:// (got "${url.protocol}")`);
  return url;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString();
    if (text.length > MAX_TOKEN_BYTES)
      throw usageError(`the token on stdin is longer than ${MAX_TOKEN_BYTES} bytes`);
  }
  return text.trim();
}

async function promptToken(s: Session): Promise<string> {
  if (!s.io.stdin.isTTY) throw usageError('not a terminal: pass the token on stdin with --token-stdin');
  return (await s.askHidden('API token (input hidden): ', MAX_TOKEN_BYTES)).trim();
}
