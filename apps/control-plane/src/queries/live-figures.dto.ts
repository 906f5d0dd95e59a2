// GET /api/v1/live/queries: the newest figures of every query, a page at a time.
import { z } from 'zod';
import { isoDateTime } from '../openapi/common-schemas';

/** Bounds one answer: 1,000 queries is ~200 kB of JSON and one statement of ~100 ms. */
export const LIVE_PAGE_MAX = 1000;

export const liveFiguresQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIVE_PAGE_MAX)
    .default(500)
    .describe(`Queries in this page (1..${LIVE_PAGE_MAX})`),
  after: z.uuid().optional().describe('`next` of the previous page: queries with a greater id'),
});
export type LiveFiguresQuery = z.infer<typeof liveFiguresQuery>;

export const liveFiguresSchema = z
  .looseObject({
    id: z.uuid(),
    runningInstances: z.int().describe('Instances in status RUNNING'),
    inputRowsPerSecond: z
      .number()
      .nullable()
      .describe(
        'Newest event of each instance, summed (instances silent for 30 s left out); null: no progress',
      ),
    processedRowsPerSecond: z.number().nullable(),
    progressAt: isoDateTime.nullable().describe('Time of the newest progress event'),
    lagRecords: z.number().nullable().describe('Records behind, all partitions; null: not read yet'),
    lagSeconds: z.number().nullable().describe('Seconds behind, the most behind partition'),
    lagReadAt: isoDateTime.nullable().describe('When the lag was read from Kafka (every 5 s)'),
    firingAlerts: z.int(),
  })
  .meta({ id: 'QueryLiveFigures' });

export const liveFiguresPageSchema = z
  .looseObject({
    items: z.array(liveFiguresSchema),
    next: z.uuid().nullable().describe('Pass as `after` for the next page; null on the last page'),
  })
  .meta({ id: 'QueryLiveFiguresPage' });
