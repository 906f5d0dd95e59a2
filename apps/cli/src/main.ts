// `sluice` entry point: runs the command tree and turns every outcome into an exit code
// (exit-codes.ts). Ctrl-C aborts waits and streams; a second Ctrl-C exits at once.
import { CommanderError } from 'commander';
import { CliError, EXIT } from './exit-codes';
import { buildProgram } from './program';
import type { Io } from './session';

async function main(): Promise<number> {
  const interrupt = new AbortController();
  process.on('SIGINT', () => {
    if (interrupt.signal.aborted) process.exit(EXIT.INTERRUPTED);
    interrupt.abort();
  });
  const io: Io = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    stdin: process.stdin,
    env: process.env,
    stdoutTTY: Boolean(process.stdout.isTTY),
    stderrTTY: Boolean(process.stderr.isTTY),
    signal: interrupt.signal,
  };
  try {
    await buildProgram(io).parseAsync(process.argv);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version end here too; their text is already printed.
      if (e.exitCode === 0) return EXIT.OK;
      return EXIT.USAGE;
    }
    if (e instanceof CliError) {
      io.stderr(`error: ${e.message}\n`);
      return e.exitCode;
    }
    if (interrupt.signal.aborted) {
      io.stderr('interrupted\n');
      return EXIT.INTERRUPTED;
    }
    io.stderr(`error: ${(e as Error).stack ?? String(e)}\n`);
    return EXIT.ERROR;
  }
}

void main().then((code) => process.exit(code));
