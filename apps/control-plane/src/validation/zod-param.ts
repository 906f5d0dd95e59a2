// One schema, two readers: Nest hands `schema` to @nestjs/swagger, which documents the parameter
// from it, and the ZodPipe built here validates with the very same object. Passing a schema to
// @Body/@Query this way (Nest 12 parameter options) means the document cannot drift from what the
// API accepts.
import type { ParameterDecoratorOptions } from '@nestjs/common';
import type { ZodType } from 'zod';
import { ZodPipe } from './zod-body.pipe';

export function zodParam<T>(schema: ZodType<T>): ParameterDecoratorOptions {
  return { schema, pipes: [new ZodPipe(schema)] };
}
