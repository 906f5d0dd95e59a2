// What a PostgreSQL failure means for the engine. Two kinds need their own handling:
//  - the database is unreachable (down, restarting, network cut): nothing is wrong with the
//    batch, so the engine waits and retries instead of crashing (a crash-looping engine would
//    end FAILED over an outage it could simply have waited out);
//  - the database refuses a row for its data (SQLSTATE class 22 data exception, 23 integrity
//    constraint violation, 54 program limit exceeded, e.g. "index row requires 10024 bytes"):
//    that row, and only that row, is a dead letter.
// Everything else (a missing table, a permission error, a bug) is neither and fails the batch.

/** Node socket errors of a connection that failed or broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/**
 * SQLSTATEs of a server that is going away or not accepting connections yet: class 08
 * (connection exception), admin/crash shutdown, "the database system is starting up", too many
 * connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** node-postgres raises these as plain Errors without a code. */
const PG_CLIENT_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when `err` says the database could not be reached or the connection broke. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = codeOf(err);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) return true;
  }
  if (PG_CLIENT_MESSAGES.some((m) => err.message.startsWith(m))) return true;
  // Node reports a refused dual-stack connect as an AggregateError of per-address errors.
  if (err instanceof AggregateError) return err.errors.some((e) => isDatabaseUnavailable(e));
  const cause = (err as { cause?: unknown }).cause;
  return cause !== undefined && cause !== err && isDatabaseUnavailable(cause);
}

/** True when PostgreSQL refused a statement for the data it carried (classes 22, 23, 54). */
export function isRowDataError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** "SQLSTATE 54000: index row requires 10024 bytes, maximum size is 8191", bounded. */
export function describePgError(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const text = code ? `SQLSTATE ${code}: ${message}` : message;
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
