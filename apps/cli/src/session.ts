// What every command needs: its output streams and format, the API client for the chosen
// context, the Ctrl-C signal, and the helpers that print results and follow operations.
import type { Command } from 'commander';
import type { Operation } from '@sluice/contracts';
import { ApiClient } from './api/client';
import { followOperation } from './api/follow-operation';
import { configPath, readConfig } from './config/config-file';
import { resolveTarget } from './config/resolve-context';
import { CliError, EXIT, usageError } from './exit-codes';
import { parseOutputFormat, serialize, type OutputFormat } from './output/output-format';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  stdoutTTY: boolean;
  stderrTTY: boolean;
  /** Aborted by Ctrl-C: waits and streams end, nothing in the control plane is cancelled. */
  signal: AbortSignal;
}

export interface WaitOptions {
  wait?: boolean;
  timeout: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Session {
  readonly format: OutputFormat;
  private readonly contextName: string | undefined;
  private cachedClient: ApiClient | undefined;

  constructor(
    readonly io: Io,
    globals: { output?: string; context?: string },
  ) {
    this.format = parseOutputFormat(globals.output ?? 'table');
    this.contextName = globals.context;
  }

  static of(cmd: Command, io: Io): Session {
    return new Session(io, cmd.optsWithGlobals<{ output?: string; context?: string }>());
  }

  get configFile(): string {
    return configPath(this.io.env);
  }

  warn(message: string): void {
    this.io.stderr(`warning: ${message}\n`);
  }

  client(): ApiClient {
    this.cachedClient ??= new ApiClient(
      resolveTarget(
        readConfig(this.configFile, (m) => this.warn(m)),
        this.io.env,
        this.contextName,
      ),
      (m) => this.warn(m),
    );
    return this.cachedClient;
  }

  /** Prints `data` as JSON/YAML, or as the command's table/text for people. */
  print(data: unknown, human: () => string): void {
    this.io.stdout(this.format === 'table' ? human() : serialize(data, this.format));
  }

  /** A query named by id or by name (names are unique among live queries). */
  async queryId(ref: string): Promise<string> {
    if (UUID.test(ref)) return ref;
    const all = await this.client().get<Array<{ id: string; name: string }>>('/api/v1/queries', {
      signal: this.io.signal,
    });
    const found = all.find((q) => q.name === ref);
    if (!found) throw new CliError(`no query named "${ref}" (see \`sluice queries list\`)`, EXIT.NOT_FOUND);
    return found.id;
  }

  /**
   * After a request that started an operation: follow it when --wait, or by default on a
   * terminal; otherwise print it and return. Exit status follows the operation's outcome.
   */
  async finishOperation(op: Operation, opts: WaitOptions): Promise<void> {
    const wait = opts.wait ?? (this.io.stderrTTY && this.format === 'table');
    if (!wait) {
      this.print(
        op,
        () =>
          `${op.type} operation ${op.id} ${op.state.toLowerCase()}; follow it with \`sluice operations wait ${op.id}\`\n`,
      );
      return;
    }
    const done = await followOperation(this.client(), op, {
      timeoutMs: parseTimeout(opts.timeout) * 1000,
      signal: this.io.signal,
      write: this.io.stderr,
      tty: this.io.stderrTTY,
    });
    this.print(done, () => `${done.type} ${done.id} succeeded\n`);
  }

  /** Refuses at once when a confirmation will be needed and cannot be asked (no terminal). */
  requireConfirmable(what: string, yes: boolean | undefined): void {
    if (!yes && !(this.io.stdin.isTTY && this.io.stderrTTY))
      throw usageError(`${what} asks for confirmation, and this is not a terminal: add --yes to proceed`);
  }

  /** Yes/no on a terminal; scripts must say --yes (a prompt would hang them). */
  async confirm(
    question: string,
    yes: boolean | undefined,
    cancelled = 'cancelled; nothing was changed',
  ): Promise<void> {
    if (yes) return;
    this.requireConfirmable(question, yes);
    const answer = await this.ask(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError(cancelled);
  }

  ask(prompt: string): Promise<string> {
    this.io.stderr(prompt);
    return new Promise((resolve, reject) => {
      let buf = '';
      const onData = (chunk: Buffer | string) => {
        buf += chunk.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) finish(buf.slice(0, nl));
      };
      const onAbort = () => {
        cleanup();
        reject(new CliError('cancelled; nothing was changed', EXIT.INTERRUPTED));
      };
      const finish = (s: string) => {
        cleanup();
        resolve(s);
      };
      const cleanup = () => {
        this.io.stdin.off('data', onData);
        this.io.stdin.off('end', onEnd);
        this.io.signal.removeEventListener('abort', onAbort);
        (this.io.stdin as NodeJS.ReadStream).pause?.();
      };
      const onEnd = () => finish(buf);
      this.io.stdin.on('data', onData);
      this.io.stdin.once('end', onEnd);
      this.io.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * A line typed on the terminal with echo off (a secret). Raw mode turns the echo off; it also
   * turns off the terminal's own line editing and Ctrl-C, so those few keys are handled here.
   */
  askHidden(prompt: string, maxLength: number): Promise<string> {
    const stdin = this.io.stdin as NodeJS.ReadStream;
    // Echo off before the prompt shows: keys typed the moment it appears must not be echoed.
    stdin.setRawMode(true);
    this.io.stderr(prompt);
    return new Promise<string>((resolve, reject) => {
      let typed = '';
      const done = (settle: () => void) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.setRawMode(false);
        stdin.pause();
        this.io.stderr('\n');
        settle();
      };
      const onEnd = () => done(() => resolve(typed));
      const onData = (chunk: Buffer | string) => {
        for (const ch of chunk.toString()) {
          if (ch === '\r' || ch === '\n') return done(() => resolve(typed));
          if (ch === '\x03')
            return done(() => reject(new CliError('cancelled; nothing was changed', EXIT.INTERRUPTED)));
          if (ch === '\x04' && typed === '') return done(() => resolve(''));
          // Backspace drops a character, Ctrl-U the whole line; other control keys are ignored.
          if (ch === '\x7f' || ch === '\b') typed = typed.slice(0, -1);
          else if (ch === '\x15') typed = '';
          else if (ch >= ' ') typed += ch;
          if (typed.length > maxLength)
            return done(() => reject(usageError(`that is longer than ${maxLength} characters`)));
        }
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    });
  }
}

export function parseTimeout(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400)
    throw usageError(`--timeout takes seconds between 1 and 86400 (got "${text}")`);
  return n;
}

export function positiveInt(name: string, max = 2_147_483_647) {
  return (text: string): number => {
    if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > max)
      throw usageError(`${name} must be a whole number from 1 to ${max} (got "${text}")`);
    return Number(text);
  };
}
