// Commands on `sluice.control` (key = query id). Engines apply them between batches and echo the
// command id in `sluice.ackedCommands` of their next progress event.
import { z } from 'zod';
import { jsonPath } from './progress';

export const controlCommandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('setRateLimit'),
    commandId: z.string().min(1),
    queryId: z.string().min(1),
    /** null lifts the limit. */
    maxOffsetsPerTrigger: z.number().int().positive().nullable(),
  }),
  z.object({
    type: z.literal('drain'),
    commandId: z.string().min(1),
    queryId: z.string().min(1),
    /** Only this instance drains; all instances of the query when absent. */
    instance: z.string().min(1).optional(),
    /**
     * Only while it runs this version: its successor of the same name (an upgrade) may already
     * be listening when the command arrives, and must not drain in its place.
     */
    version: z.number().int().positive().optional(),
  }),
  /**
   * Stop planning new source batches (a write-ahead batch already planned still runs); the
   * shuffle stage goes on until it has consumed what the source stage repartitioned. Sent before
   * a `new-checkpoint` upgrade with `startingOffsets: continue` drains a stateful query, so that
   * no row is left in the old repartition topic. `resumeSources` undoes it.
   */
  z.object({
    type: z.literal('pauseSources'),
    commandId: z.string().min(1),
    queryId: z.string().min(1),
  }),
  z.object({
    type: z.literal('resumeSources'),
    commandId: z.string().min(1),
    queryId: z.string().min(1),
  }),
]);

export type ControlCommand = z.infer<typeof controlCommandSchema>;

export function parseControlCommand(input: unknown): ControlCommand {
  const result = controlCommandSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new Error(
    `invalid control command at ${issue ? jsonPath(issue.path) : '$'}: ${issue?.message ?? 'invalid'}`,
  );
}
