// Validates a request body (or query) against a zod schema; 400 lists every field at fault.
import { BadRequestException, type PipeTransform } from '@nestjs/common';
import type { ZodType } from 'zod';

export class ZodPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: ZodType<T>) {}

  transform(value: unknown): T {
    const parsed = this.schema.safeParse(value ?? {});
    if (parsed.success) return parsed.data;
    const errors = parsed.error.issues.map((i) => ({
      path: i.path.join('.') || '(body)',
      message: i.message,
    }));
    throw new BadRequestException({
      code: 'VALIDATION_FAILED',
      message: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      errors,
    });
  }
}
