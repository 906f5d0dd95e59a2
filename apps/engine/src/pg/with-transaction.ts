// BEGIN … COMMIT on one pooled connection, ROLLBACK on any error (then rethrown).
import type { Pool, PoolClient } from 'pg';
import { isDatabaseUnavailable } from './pg-errors';

export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // pg-pool removes its own error listener while a client is checked out, and a connection that
  // breaks between two statements emits 'error' on the client: without a listener that is an
  // uncaught exception that kills the engine. The statement in flight fails anyway.
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // The work's error is the one to report; if ROLLBACK fails too, the connection is broken and the
    // pool discards it (PostgreSQL rolls the transaction back when the session ends).
    if (!broken && !isDatabaseUnavailable(err)) await client.query('ROLLBACK').catch(() => undefined);
    if (isDatabaseUnavailable(err)) broken ??= err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    // A broken connection is destroyed rather than returned to the pool for the next batch.
    client.release(broken);
  }
}
