// The body of every error response (built by HttpErrorFilter), as a zod schema so the OpenAPI
// document describes it from code. Loose objects: some errors carry extra fields (the 409 of a
// busy query names its `operationId`), and clients must ignore fields they do not know.
import { z } from 'zod';

export const apiErrorDetailSchema = z.looseObject({
  /** Dotted path of the field at fault; '(body)' for the body as a whole, '' for a whole spec. */
  path: z.string(),
  message: z.string(),
  /** Spec errors (422) point into the submitted YAML/JSON text. */
  line: z.int().optional(),
  column: z.int().optional(),
});

export const apiErrorSchema = z
  .looseObject({
    statusCode: z.int().min(400).max(599),
    code: z
      .string()
      .describe('Stable machine-readable code, e.g. VALIDATION_FAILED, NOT_FOUND, OPERATION_IN_PROGRESS'),
    message: z.string().describe('Human-readable explanation'),
    errors: z
      .array(apiErrorDetailSchema)
      .optional()
      .describe('Every field at fault (400 validation, 422 spec errors)'),
  })
  .meta({ id: 'ApiError' });

export type ApiError = z.infer<typeof apiErrorSchema>;
