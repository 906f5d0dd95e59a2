// Building blocks shared by the response schemas of several resources.
import { z } from 'zod';

/** Every timestamp the API writes comes from Date#toISOString (UTC, milliseconds, `Z`). */
export const isoDateTime = z.iso.datetime();

/** Database ids that are bigints travel as decimal strings (JSON numbers lose precision). */
export const bigintId = z.string().regex(/^\d+$/);
