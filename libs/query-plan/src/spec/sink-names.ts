// Names that decide where a PostgreSQL sink may write. One place, used by the spec schema (which
// refuses reserved schemas), the control plane (which resolves connections) and the engine.

/** A sink connection's name: what the control plane registers and what a spec may name. */
export const SINK_CONNECTION_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const SINK_CONNECTION_NAME_HINT =
  'lower-case letters, digits, _ and -, starting with a letter, at most 63 characters';

/** The connection a PostgreSQL sink uses when its spec names none. */
export const DEFAULT_SINK_CONNECTION = 'default';

/** Schema of the engine's exactly-once markers (`sink_commits`) in every sink database. */
export const ENGINE_SINK_SCHEMA = 'sluice_engine';

/** Schemas no sink table may name: PostgreSQL's own and the engine's bookkeeping. */
export const RESERVED_SINK_SCHEMAS = [
  ENGINE_SINK_SCHEMA,
  'information_schema',
  'pg_catalog',
  'pg_toast',
] as const;

export function isReservedSinkSchema(schema: string): boolean {
  const s = schema.toLowerCase();
  return (RESERVED_SINK_SCHEMAS as readonly string[]).includes(s) || s.startsWith('pg_');
}
