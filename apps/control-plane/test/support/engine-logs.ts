// Reading the local runtime's engine logs (JSON, one line each), for the upgrade suites and
// bench:upgrade: an instance's current run logs to engine.log in its folder; its run before is
// engine.log.1, or — a new checkpoint holds the query stopped in between, and the runtime
// archives a forgotten instance's logs — the newest `<name>-<ms>.log` of `<home>/logs/<query>/`.
import fs from 'node:fs';
import path from 'node:path';

export interface EngineLogLine {
  time: string;
  msg: string;
  uptimeMs?: number;
  generation?: number;
}

/** A log's lines; lines cut by a rotation are skipped, a missing file has none. */
export function readEngineLog(file: string): EngineLogLine[] {
  if (!fs.existsSync(file)) return [];
  const out: EngineLogLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as EngineLogLine);
    } catch {
      // a line cut by a log rotation: not a milestone
    }
  }
  return out;
}

/** The current run's log of instance `name`. */
export function currentEngineLog(home: string, queryId: string, name: string): string {
  return path.join(home, 'instances', queryId, name, 'engine.log');
}

/** The log of the run before the current one (engine.log.1, else the newest archived log). */
export function previousEngineLog(home: string, queryId: string, name: string): string {
  const rotated = path.join(home, 'instances', queryId, name, 'engine.log.1');
  if (fs.existsSync(rotated)) return rotated;
  const archive = path.join(home, 'logs', queryId);
  const stamp = (f: string) => Number(f.slice(name.length + 1, -'.log'.length));
  const archived = (fs.existsSync(archive) ? fs.readdirSync(archive) : [])
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith('.log') && Number.isFinite(stamp(f)))
    .sort((a, b) => stamp(b) - stamp(a));
  return archived[0] ? path.join(archive, archived[0]) : rotated;
}
