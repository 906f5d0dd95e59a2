import { z } from 'zod';

/**
 * Text that people read back (names, filters): no control characters. PostgreSQL's text type
 * refuses NUL outright (a 500 before this check), and the others garble logs and terminals. The
 * class is spelled as code-point ranges so the pattern published in the OpenAPI document works
 * in any regex dialect (schemathesis generates from it).
 */
export const printableText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[^\x00-\x1F\x7F-\x9F]*$/, 'must not contain control characters');
