// Which engine instances acknowledged a control command. An engine applies commands between
// triggers and lists their ids in `sluice.ackedCommands` of its next progress event; that event is
// the only proof a command took effect (publishing it only proves Kafka has it). Pure.

/** A stored progress event, the fields an acknowledgement needs. */
export interface AckRow {
  instance: string | null;
  timestamp: Date;
  payload: unknown;
}

interface AckPayload {
  sluice?: { instance?: string; ackedCommands?: string[] };
}

/** The instance that reported the event (the payload's own name first: it is the engine's). */
export function reportingInstance(row: AckRow): string {
  return (row.payload as AckPayload | null)?.sluice?.instance ?? row.instance ?? '?';
}

/**
 * Instances that acknowledged any of `commandIds` among `rows`, each with the time of its first
 * acknowledging event. Several ids: a command re-sent under a new id counts as the same request.
 */
export function acknowledgements(rows: AckRow[], commandIds: string | string[]): Map<string, Date> {
  const ids = new Set(typeof commandIds === 'string' ? [commandIds] : commandIds);
  const out = new Map<string, Date>();
  for (const row of rows) {
    const acked = (row.payload as AckPayload | null)?.sluice?.ackedCommands ?? [];
    const who = reportingInstance(row);
    if (!out.has(who) && acked.some((id) => ids.has(id))) out.set(who, row.timestamp);
  }
  return out;
}
