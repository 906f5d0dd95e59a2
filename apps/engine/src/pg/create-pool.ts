// The engine's PostgreSQL pools (sink and checkpoint store), configured to survive an outage.
import { Pool } from 'pg';

export type PoolWarn = (msg: string) => void;

/** At most one "idle connection lost" warning per pool and interval: an outage breaks them all. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export function createPool(connectionString: string, role: string, warn: PoolWarn = () => undefined): Pool {
  const pool = new Pool({
    connectionString,
    max: 4,
    // Without a timeout a connect to a host that drops packets waits for the OS (minutes).
    connectionTimeoutMillis: 10_000,
    // Detects a peer that vanished without closing the connection.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // An idle pooled connection that breaks (server restart, network cut) is reported here; with
  // no listener Node treats the event as an uncaught exception and the engine dies. The pool has
  // already discarded the connection; the next statement opens a new one.
  let lastLogged = 0;
  pool.on('error', (err) => {
    if (Date.now() - lastLogged < ERROR_LOG_INTERVAL_MS) return;
    lastLogged = Date.now();
    warn(`${role} database: idle connection lost (${err.message})`);
  });
  return pool;
}
