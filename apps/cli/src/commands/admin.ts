// `sluice operations get|wait`, `sluice tokens create|list|revoke`, `sluice audit`.
import { Option, type Command } from 'commander';
import type { Operation } from '@sluice/contracts';
import { followOperation } from '../api/follow-operation';
import { renderFields, renderTable } from '../output/table';
import { parseTimeout, positiveInt, Session, type Io } from '../session';

interface Token {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function registerAdmin(program: Command, io: Io): void {
  const ops = program.command('operations').alias('op').description('long changes: deploy, scale, stop, ...');
  ops
    .command('get')
    .description('an operation with its steps')
    .argument('<id>', 'operation id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const op = await s
        .client()
        .get<Operation>(`/api/v1/operations/${encodeURIComponent(id)}`, { signal: io.signal });
      s.print(op, () => renderOperation(op));
    });
  ops
    .command('wait')
    .description('wait until an operation ends, showing its steps (exit 1 if it failed)')
    .argument('<id>', 'operation id')
    .option('--timeout <seconds>', 'stop waiting after this long (the operation goes on)', '300')
    .action(async (id: string, opts: { timeout: string }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const timeoutMs = parseTimeout(opts.timeout) * 1000;
      const op = await s
        .client()
        .get<Operation>(`/api/v1/operations/${encodeURIComponent(id)}`, { signal: io.signal });
      const done = await followOperation(s.client(), op, {
        timeoutMs,
        signal: io.signal,
        write: io.stderr,
        tty: io.stderrTTY,
      });
      s.print(done, () => `${done.type} ${done.id} succeeded\n`);
    });

  const tokens = program.command('tokens').alias('token').description('API tokens (admin)');
  tokens
    .command('create')
    .description('create a token; its secret is printed once')
    .requiredOption('--name <name>', 'who or what uses it')
    .addOption(
      new Option('--role <role>', 'what it may do')
        .choices(['viewer', 'operator', 'admin'])
        .makeOptionMandatory(),
    )
    .action(async (opts: { name: string; role: string }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const t = await s.client().post<Token & { token: string }>('/api/v1/tokens', {
        body: { name: opts.name, role: opts.role },
        signal: io.signal,
      });
      // The secret alone on stdout, so `T=$(sluice tokens create ...)` works; the rest to stderr.
      s.print(t, () => {
        io.stderr(`created ${t.role} token "${t.name}" (${t.id}); the secret is shown only now:\n`);
        return `${t.token}\n`;
      });
    });
  tokens
    .command('list')
    .alias('ls')
    .description('every token, revoked ones included (never their secrets)')
    .action(async (_o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const rows = await s.client().get<Token[]>('/api/v1/tokens', { signal: io.signal });
      s.print(rows, () =>
        renderTable(rows, [
          { header: 'name', value: (t) => t.name },
          { header: 'role', value: (t) => t.role },
          { header: 'prefix', value: (t) => t.prefix },
          { header: 'created', value: (t) => t.createdAt },
          { header: 'last used', value: (t) => t.lastUsedAt },
          { header: 'revoked', value: (t) => t.revokedAt },
          { header: 'id', value: (t) => t.id },
        ]),
      );
    });
  tokens
    .command('revoke')
    .description('revoke a token (at once on this control plane)')
    .argument('<id>', 'token id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const t = await s
        .client()
        .delete<Token>(`/api/v1/tokens/${encodeURIComponent(id)}`, { signal: io.signal });
      s.print(t, () => `revoked token "${t.name}" (${t.id})\n`);
    });

  program
    .command('audit')
    .description('audit log, newest first (admin)')
    .option('--target <target>', 'only entries about this target, e.g. query/<id>')
    .option('--limit <n>', 'how many entries', positiveInt('--limit', 1000), 50)
    .action(async (opts: { target?: string; limit: number }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const rows = await s.client().get<
        Array<{
          createdAt: string;
          actor: string;
          action: string;
          target: string | null;
          requestId: string | null;
        }>
      >('/api/v1/audit', { query: { target: opts.target, limit: opts.limit }, signal: io.signal });
      s.print(rows, () =>
        renderTable(rows, [
          { header: 'time', value: (r) => r.createdAt },
          { header: 'actor', value: (r) => r.actor },
          { header: 'action', value: (r) => r.action },
          { header: 'target', value: (r) => r.target },
        ]),
      );
    });
}

export function renderOperation(op: Operation): string {
  return (
    renderFields([
      ['Operation', op.id],
      ['Type', op.type],
      ['Query', op.queryId],
      ['State', `${op.state} ${op.progress}%`],
      ['Requested by', op.requestedBy],
      ['Created', op.createdAt],
      ['Finished', op.finishedAt],
      ['Error', op.error],
    ]) +
    '\n' +
    renderTable(op.steps, [
      { header: 'step', value: (st) => st.name },
      { header: 'state', value: (st) => st.state },
      { header: 'message', value: (st) => st.message },
    ])
  );
}
