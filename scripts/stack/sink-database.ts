// The default sink database of the local stack: `sluice_sinks`, owned by the role `sluice_sink`,
// which owns nothing else and cannot connect to the control plane's database `sluice`. Queries'
// PostgreSQL sinks write here (SLUICE_SINK_DATABASE_URL), so even a sink whose table name slipped
// past validation cannot touch tokens, queries or the audit log: the role lacks the grant.
// Idempotent; runs on every `stack:up`, also against a cluster created before this existed.
import { Client } from 'pg';
import type { StackConfig } from './config';

export const SINK_ROLE = 'sluice_sink';
export const SINK_DATABASE = 'sluice_sinks';
const CONTROL_PLANE_DATABASE = 'sluice';

export function sinkDatabaseUrl(c: StackConfig): string {
  return `postgresql://${SINK_ROLE}@${c.host}:${c.postgresPort}/${SINK_DATABASE}`;
}

export async function ensureSinkDatabase(c: StackConfig, log: (msg: string) => void): Promise<void> {
  // As the cluster's superuser (`sluice`, created by initdb).
  const admin = new Client({ connectionString: `postgresql://sluice@${c.host}:${c.postgresPort}/postgres` });
  await admin.connect();
  try {
    const role = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [SINK_ROLE]);
    if (role.rowCount === 0) {
      log(`creating role ${SINK_ROLE} (owns only sink tables)`);
      await admin.query(`CREATE ROLE ${SINK_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION`);
    }
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [SINK_DATABASE]);
    if (db.rowCount === 0) {
      log(`creating database ${SINK_DATABASE}`);
      await admin.query(`CREATE DATABASE ${SINK_DATABASE} OWNER ${SINK_ROLE}`);
    }
    // New databases grant CONNECT to PUBLIC; the control plane's must not.
    await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${CONTROL_PLANE_DATABASE} FROM PUBLIC`);
    await admin.query(`REVOKE ALL ON DATABASE ${SINK_DATABASE} FROM PUBLIC`);
  } finally {
    await admin.end();
  }
}
