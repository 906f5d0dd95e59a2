// The operations on a query as commands that are valid by construction (as novu's use-case
// commands validate themselves): the API, the scaling loop and any job build them with the
// functions here, and QueriesService accepts nothing else. So a request is checked on one path
// whoever makes it: a malformed query id is 404 and a bad body 400 naming the field, never a
// database error (before, only the controller checked, and the loop could bypass the scale limits).
import { NotFoundException } from '@nestjs/common';
import { z } from 'zod';
import { ZodPipe } from '../validation/zod-body.pipe';
import { deployBody, rateLimitBody, scaleBody } from './query.dto';

declare const validated: unique symbol;

/** `T` as checked by one of the constructors below (the brand cannot be forged without a cast). */
export type Command<T> = Readonly<T & { queryId: string }> & { readonly [validated]: true };

export type ScaleCommand = Command<{ instances: number }>;
export type RateLimitCommand = Command<{ maxOffsetsPerTrigger: number | null }>;
export type DeployCommand = Command<{ version: number }>;
export type StopCommand = Command<object>;
export type StartCommand = Command<object>;
export type DeleteCommand = Command<object>;

// Any 8-4-4-4-12 hex id, as PostgreSQL's uuid type and the API's ParseUUIDPipe accept (z.uuid() would also
// insist on an RFC version digit).
const queryIdSchema = z.guid();

/** A query id is a UUID; anything else names no query (404, as the API answers an unknown id). */
function checkedQueryId(queryId: unknown): string {
  const parsed = queryIdSchema.safeParse(queryId);
  if (!parsed.success) throw new NotFoundException({ code: 'NOT_FOUND', message: 'query not found' });
  return parsed.data;
}

function command<T extends object>(queryId: unknown, body: T): Command<T> {
  return { ...body, queryId: checkedQueryId(queryId) } as Command<T>;
}

/** 400 naming the field unless the body is a whole number of instances in 1..maxInstances. */
export function scaleCommand(queryId: unknown, raw: unknown, maxInstances: number): ScaleCommand {
  return command(queryId, new ZodPipe(scaleBody(maxInstances)).transform(raw));
}

/** 400 naming the field unless maxOffsetsPerTrigger is a positive 32-bit integer or null (no limit). */
export function rateLimitCommand(queryId: unknown, raw: unknown): RateLimitCommand {
  return command(queryId, new ZodPipe(rateLimitBody).transform(raw));
}

/** 400 naming the field unless the version is a positive 32-bit integer (that it exists is checked in the transaction). */
export function deployCommand(queryId: unknown, raw: unknown): DeployCommand {
  return command(queryId, new ZodPipe(deployBody).transform(raw));
}

export function stopCommand(queryId: unknown): StopCommand {
  return command(queryId, {});
}

export function startCommand(queryId: unknown): StartCommand {
  return command(queryId, {});
}

export function deleteCommand(queryId: unknown): DeleteCommand {
  return command(queryId, {});
}
