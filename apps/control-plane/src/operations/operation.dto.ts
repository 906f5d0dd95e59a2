// Response schema of an operation (operationView), documented in the OpenAPI document.
import { z } from 'zod';
import { OperationState } from '../generated/prisma/enums';
import { isoDateTime } from '../openapi/common-schemas';
import { OPERATION_TYPES } from './operation-types';

const stepSchema = z.looseObject({
  name: z.string(),
  state: z.enum(['pending', 'running', 'done', 'failed']),
  startedAt: isoDateTime.optional(),
  finishedAt: isoDateTime.optional(),
  message: z.string().optional(),
});

export const operationSchema = z
  .looseObject({
    id: z.uuid(),
    queryId: z.uuid().nullable(),
    type: z.enum(OPERATION_TYPES),
    state: z.enum(OperationState),
    progress: z.int().min(0).max(100),
    steps: z.array(stepSchema),
    params: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
    requestedBy: z.string().nullable(),
    attempts: z.int().min(0),
    createdAt: isoDateTime,
    startedAt: isoDateTime.nullable(),
    finishedAt: isoDateTime.nullable(),
  })
  .meta({
    id: 'Operation',
    description:
      'A long change (deploy, scale, ...) executed in the background; poll GET /api/v1/operations/{id}',
  });
