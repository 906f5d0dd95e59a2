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
