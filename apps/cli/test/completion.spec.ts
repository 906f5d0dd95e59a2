// Completion scripts come from the command tree; the bash one is run in a real bash.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bashCompletion, completionTree, zshCompletion } from '../src/completion';
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
const program = buildProgram(io);

/** What bash offers for the words typed so far (the last one is being completed). */
function complete(words: string[]): string[] {
  const script = `${bashCompletion(program)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_sluice_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('completion', () => {
  it('has a node for every command path, with its subcommands and options', () => {
    const tree = completionTree(program);
    const root = tree.find((n) => n.path === '')!;
    expect(root.subcommands).toEqual(
      expect.arrayContaining(['login', 'queries', 'lag', 'progress', 'tokens', 'audit']),
    );
    const scale = tree.find((n) => n.path === 'queries scale')!;
    expect(scale.options).toEqual(
      expect.arrayContaining(['--wait', '--timeout', '--output', '-o', '--help']),
    );
    expect(tree.find((n) => n.path === 'query scale')).toBeDefined(); // aliases complete too
  });

  it('bash completes commands, subcommands and options', () => {
    expect(complete(['sluice', 'qu'])).toEqual(['queries', 'query']);
    expect(complete(['sluice', 'queries', 'sc'])).toEqual(['scale']);
    expect(complete(['sluice', '-o', 'json', 'queries', 'upgrade', 'q1', '--str'])).toEqual(['--strategy']);
    expect(complete(['sluice', 'progress', 'q1', '--fo'])).toEqual(['--follow']);
  });

  it('zsh gets the same table as an associative array', () => {
    const zsh = zshCompletion(program);
    expect(zsh.startsWith('#compdef sluice')).toBe(true);
    expect(zsh).toMatch(/\["queries scale"\]="[^"]*--wait/);
    expect(zsh).toContain('compdef _sluice sluice');
  });
});
