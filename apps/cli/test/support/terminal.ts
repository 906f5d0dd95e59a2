// The `sluice` binary on a real pseudo-terminal, as a person runs it: util-linux `script` (in
// Debian's essential bsdutils, so on every machine the tests run on) opens the pty, runs the
// command on it, copies what we type to the pty and everything the terminal shows back to us
// (the terminal's echo included). Tests wait for text to appear and type answers.
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT, SLUICE_BIN } from './cli-stack';

/** One shell word: '…' with any ' inside closed, escaped and reopened. */
const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Escape sequences (colours, cursor moves) removed: the text a person reads. */
export const plainText = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

export class Terminal {
  /** Everything the terminal showed so far, escape sequences and all. */
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    const command = [process.execPath, SLUICE_BIN, ...args].map(shellWord).join(' ');
    // -q: no "Script started" lines; -e: exit with the command's status; -f: flush at once;
    // /dev/null: keep no typescript file.
    this.child = spawn('script', ['-q', '-e', '-f', '-c', command, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SHELL: '/bin/sh', TERM: 'xterm', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const onOutput = (d: Buffer) => {
      this.output += d.toString('utf8');
      for (const w of this.waiters) w();
    };
    this.child.stdout!.on('data', onOutput);
    this.child.stderr!.on('data', onOutput);
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code) => {
        for (const w of this.waiters) w();
        resolve(code);
      }),
    );
  }

  /** Resolves once the plain text shown matches; rejects if the command ends first. */
  waitFor(pattern: RegExp | string, what = String(pattern)): Promise<void> {
    const seen = () =>
      typeof pattern === 'string'
        ? plainText(this.output).includes(pattern)
        : pattern.test(plainText(this.output));
    return new Promise((resolve, reject) => {
      const check = () => {
        if (seen()) {
          this.waiters.delete(check);
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.waiters.delete(check);
          reject(new Error(`the command ended before showing ${what}; the terminal showed:\n${this.output}`));
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Keys typed on the terminal ("\r" is Enter, "\x03" Ctrl-C). */
  type(keys: string): void {
    this.child.stdin!.write(keys);
  }

  /** Ends the pty's command (and `script`) if a test left it running. */
  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
