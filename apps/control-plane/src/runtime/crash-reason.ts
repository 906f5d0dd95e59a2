// Why an engine exited, in one line: the last error line of its log (stdout + stderr), so the
// query's conditions can say "last: engine: index row requires …" instead of only counting
// crashes. The engine ends a fatal run with `engine: <message>` on stderr; its JSON log lines at
// level error (50+) and Node's own report of an uncaught exception are the other sources.

/** Bound of a reported reason: a condition message, not a log. */
export const MAX_CRASH_REASON_CHARS = 300;

const STACK_FRAME = /^\s+at\s/;
const NODE_VERSION = /^Node\.js v\d/;
const NODE_ERROR = /^(?:Uncaught\s+)?[A-Za-z_$][\w$]*(?:Error|Exception)(?:\s*\[[\w-]+\])?:\s/;

/** `line` as one bounded line. */
export function bounded(line: string): string {
  const one = line.replace(/\s+/g, ' ').trim();
  return one.length > MAX_CRASH_REASON_CHARS ? `${one.slice(0, MAX_CRASH_REASON_CHARS - 1)}…` : one;
}

/** A pino JSON line: its message when the level is error or fatal, null for other levels. */
function jsonLogLine(line: string): string | null | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const o = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    if (typeof o.level !== 'number') return undefined;
    if (o.level < 50) return null;
    const msg = typeof o.msg === 'string' ? o.msg : '';
    const err =
      typeof o.err?.message === 'string' && !msg.includes(o.err.message) ? `: ${o.err.message}` : '';
    return `${msg}${err}` || null;
  } catch {
    return undefined;
  }
}

/** The most telling error line of `log` (its tail is enough), or undefined when it has none. */
export function crashReasonFromLog(log: string): string | undefined {
  const lines = log.split(/\r?\n/);
  let fallback: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.trim() === '' || STACK_FRAME.test(line) || NODE_VERSION.test(line)) continue;
    if (line.startsWith('engine: ') || NODE_ERROR.test(line)) return bounded(line);
    const json = jsonLogLine(line);
    if (json) return bounded(json);
    // Not an error line we recognise, and not an ordinary log line either: the last of these
    // (say, a message a dependency wrote to stderr) is better than nothing.
    if (json === undefined) fallback ??= line;
  }
  return fallback === undefined ? undefined : bounded(fallback);
}
