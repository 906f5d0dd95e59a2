// Recognises "a server the control plane needs is not answering" among thrown errors, so the API
// can say 503 + Retry-After (try again shortly) instead of 500 (a bug). The shapes come from
// Prisma 7 over @prisma/adapter-pg, from pg itself, and from Node's sockets.

/** Prisma errors that mean the database could not be used at all (not that a query was wrong). */
const PRISMA_UNAVAILABLE = new Set([
  'P1001', // can't reach database server
  'P1002', // database server reached but timed out
  'P1008', // operations timed out
  'P1017', // server closed the connection
  'P2024', // timed out fetching a connection from the pool
  'P2028', // transaction could not start in time: every pooled connection busy (seen under load)
]);

/** @prisma/driver-adapter-utils error kinds with the same meaning. */
const ADAPTER_UNAVAILABLE = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionAlreadyClosed',
]);

/** SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P (operator intervention: shutdown). */
const SQLSTATE_UNAVAILABLE = /^(08|53|57P)/;

const SOCKET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
  cause?: unknown;
}

export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const e = error as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (
    code &&
    (PRISMA_UNAVAILABLE.has(code) || SOCKET_UNAVAILABLE.has(code) || SQLSTATE_UNAVAILABLE.test(code))
  )
    return true;
  const adapter = e.meta?.driverAdapterError?.cause;
  if (adapter) {
    if (typeof adapter.kind === 'string' && ADAPTER_UNAVAILABLE.has(adapter.kind)) return true;
    if (typeof adapter.originalCode === 'string' && SQLSTATE_UNAVAILABLE.test(adapter.originalCode))
      return true;
  }
  // Without a code: pg (a socket gone mid-query), ioredis (disconnected, retries exhausted, offline
  // queue disabled while reconnecting).
  if (
    typeof e.message === 'string' &&
    /Connection terminated|Can't reach database server|connection timeout|Connection is closed|max retries per request|Stream isn't writeable/i.test(
      e.message,
    )
  )
    return true;
  // kafkajs names its errors rather than coding them.
  const name = (error as { name?: unknown }).name;
  if (
    typeof name === 'string' &&
    /^KafkaJS(Connection|ConnectionClosed|NumberOfRetriesExceeded|RequestTimeout|BrokerNotFound)Error$/.test(
      name,
    )
  )
    return true;
  return isDependencyUnavailable(e.cause, depth + 1);
}

/** Seconds a client should wait before retrying: about one reconnect attempt of the pool. */
export const RETRY_AFTER_SECONDS = 5;
