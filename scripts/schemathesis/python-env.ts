// A virtualenv with the pinned schemathesis (requirements.txt), under .sluice/ (git-ignored).
// Built on first use with the machine's python3 and rebuilt when requirements.txt changes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { aptInstall } from '../stack/apt';

const REQUIREMENTS = path.join(__dirname, 'requirements.txt');

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`${cmd} failed to start: ${r.error.message}`);
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim().split('\n').slice(-20).join('\n') };
}

function must(cmd: string, args: string[]): void {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed\n${r.output}`);
}

/** Returns the path of the schemathesis executable, installing it first when needed. */
export function ensureSchemathesis(venv: string, log: (m: string) => void): string {
  const bin = path.join(venv, 'bin', 'schemathesis');
  const stamp = path.join(venv, 'requirements.sha256');
  const wanted = createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
  if (fs.existsSync(bin) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) return bin;
  // schemathesis 4 needs Python 3.11 or later.
  const version = run('python3', ['-c', 'import sys; print(sys.version_info >= (3, 11))']);
  if (!version.ok || version.output !== 'True')
    throw new Error('the schemathesis suite needs python3 >= 3.11 on PATH');
  log(`installing schemathesis into ${path.relative(process.cwd(), venv)} (python3 -m venv, pip)`);
  fs.rmSync(venv, { recursive: true, force: true });
  let created = run('python3', ['-m', 'venv', venv]);
  if (!created.ok && /ensurepip/.test(created.output)) {
    // Debian and Ubuntu ship venv's pip bootstrap in a package of its own.
    aptInstall(['python3-venv'], "Python's venv module");
    fs.rmSync(venv, { recursive: true, force: true });
    created = run('python3', ['-m', 'venv', venv]);
  }
  if (!created.ok) throw new Error(`python3 -m venv failed\n${created.output}`);
  must(path.join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    '--no-input',
    '-r',
    REQUIREMENTS,
  ]);
  // Written last: an interrupted install is redone next time rather than trusted.
  fs.writeFileSync(stamp, wanted);
  return bin;
}
