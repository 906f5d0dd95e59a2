// Completion scripts come from the command tree; each is run in its real shell: bash through
// its completion variables, zsh interactively on a pseudo-terminal (zpty), TAB pressed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/**
 * What the command line reads after typing each `keys` (TAB is \t) in an interactive zsh
 * (compinit and the generated script loaded), with what zsh listed below it (ambiguous words).
 * A key bound to a widget prints the buffer between markers; the markers are written in the
 * script as \x40 escapes so the terminal's echo of the script itself never matches them.
 */
function zshComplete(lines: string[]): Array<{ buffer: string; shown: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-zsh-'));
  const file = path.join(dir, '_sluice');
  fs.writeFileSync(file, zshCompletion(program));
  const driver = `
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1="%% "; autoload -Uz compinit && compinit -u -D'
zpty -w z ${shellWord(`source ${shellWord(file)}`)}
zpty -w z ${shellWord(`show-buffer() { print -rn -- $'\\x40B:'"$BUFFER"$':B\\x40' }; zle -N show-buffer; bindkey '^X' show-buffer`)}
for line in "$@"; do
  zpty -w -n z "\${line}"$'\\x18'
  zpty -r z out '*:B@*' || exit 3
  print -rn -- "\${out}"$'\\x1e'
  zpty -w -n z $'\\x15'
done
zpty -d z
`;
  const r = spawnSync('zsh', ['-f', '-c', driver, 'zsh', ...lines], { encoding: 'utf8', timeout: 30_000 });
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.error).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  const chunks = r.stdout.split('\x1e').slice(0, lines.length);
  return chunks.map((chunk) => {
    const at = chunk.lastIndexOf('@B:');
    return {
      buffer: chunk.slice(at + 3, chunk.lastIndexOf(':B@')),
      shown: chunk.slice(0, at).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ''),
    };
  });
}

const shellWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

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

  it('zsh completes commands, subcommands and options when TAB is pressed', () => {
    const zsh = zshCompletion(program);
    expect(zsh.startsWith('#compdef sluice')).toBe(true);
    const [q, sc, strategy, follow, wait] = zshComplete([
      'sluice q\t\t',
      'sluice queries sc\t',
      'sluice -o json queries upgrade q1 --str\t',
      'sluice progress q1 --fo\t',
      'sluice operations w\t',
    ]);
    // Two commands start with "q": TAB inserts the common part, a second TAB lists both.
    expect(q!.buffer).toBe('sluice quer');
    expect(q!.shown).toMatch(/queries\s+query/);
    expect(sc!.buffer).toBe('sluice queries scale ');
    expect(strategy!.buffer).toBe('sluice -o json queries upgrade q1 --strategy ');
    expect(follow!.buffer).toBe('sluice progress q1 --follow ');
    expect(wait!.buffer).toBe('sluice operations wait ');
  });
});
