// README's "Using it" shows `sluice` commands: each must name commands and options that exist
// (the command tree of src/program.ts), so the README cannot drift from the CLI unnoticed.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/program';
import type { Io } from '../src/session';

const io: Io = {
  stdout: () => undefined,
  stderr: () => undefined,
  stdin: process.stdin,
  env: {},
  stdoutTTY: false,
  stderrTTY: false,
  signal: new AbortController().signal,
};

/** The words after `npx sluice` on every command line of README's bash blocks. */
function readmeCommands(): string[][] {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .flatMap((line) => {
      const m = /npx sluice ((?:(?!\s#).)*)/.exec(line);
      return m ? [m[1]!.trim().split(/\s+/)] : [];
    });
}

/** Problems of one command line: unknown commands or options, a missing option value. */
function check(program: Command, words: string[]): string[] {
  const problems: string[] = [];
  let cmd = program;
  const chain = [program];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('-')) {
      const flag = word.split('=')[0]!;
      const option = chain
        .flatMap((c) => c.options as Option[])
        .find((o) => o.long === flag || o.short === flag || o.long === `--no-${flag.slice(2)}`);
      if (!option) problems.push(`${cmd.name()}: no option ${flag}`);
      else if ((option.required || option.optional) && !word.includes('=')) i++; // its value
      continue;
    }
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      cmd = sub;
      chain.push(sub);
    } else if (cmd.commands.length > 0 && cmd.registeredArguments.length === 0) {
      problems.push(`${cmd.name()}: no command ${word}`);
    }
  }
  if (
    cmd.commands.length > 0 &&
    cmd.registeredArguments.length === 0 &&
    !(cmd as Command & { _actionHandler?: unknown })._actionHandler
  )
    problems.push(`${cmd.name()}: needs a subcommand`);
  return problems;
}

describe("README's sluice commands", () => {
  const program = buildProgram(io);
  const commands = readmeCommands();

  it('are there', () => {
    expect(commands.length).toBeGreaterThanOrEqual(20);
  });

  it('name commands and options the CLI has', () => {
    expect(
      commands.flatMap((words) => check(program, words).map((p) => `sluice ${words.join(' ')}: ${p}`)),
    ).toEqual([]);
  });

  it('would catch a command or option that does not exist', () => {
    expect(check(program, ['queries', 'frobnicate', 'q1'])).toContain('queries: no command frobnicate');
    expect(check(program, ['queries', 'scale', 'q1', '2', '--wiat'])).toEqual(['scale: no option --wiat']);
  });
});
