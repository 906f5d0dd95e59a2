import { BadRequestException, NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  deleteCommand,
  deployCommand,
  rateLimitCommand,
  scaleCommand,
  startCommand,
  stopCommand,
} from './query-commands';

const ID = '6f1c2a7e-3b4d-4c5e-8f90-123456789abc';

/** The response body of the HTTP exception `build` throws. */
function rejection(build: () => unknown): { status: number; body: unknown } {
  try {
    build();
  } catch (e) {
    if (e instanceof BadRequestException || e instanceof NotFoundException)
      return { status: e.getStatus(), body: e.getResponse() };
    throw e;
  }
  throw new Error('the command was accepted');
}

describe('query commands', () => {
  it('carry the checked id and body', () => {
    expect(scaleCommand(ID, { instances: 3 }, 8)).toEqual({ queryId: ID, instances: 3 });
    expect(rateLimitCommand(ID, { maxOffsetsPerTrigger: null })).toEqual({
      queryId: ID,
      maxOffsetsPerTrigger: null,
    });
    expect(rateLimitCommand(ID, { maxOffsetsPerTrigger: 500 })).toMatchObject({ maxOffsetsPerTrigger: 500 });
    expect(deployCommand(ID, { version: 2 })).toEqual({ queryId: ID, version: 2 });
    for (const make of [stopCommand, startCommand, deleteCommand]) expect(make(ID)).toEqual({ queryId: ID });
  });

  it('answer 404 for an id that cannot name a query, whichever the operation', () => {
    for (const build of [
      () => scaleCommand('1; DROP TABLE "Query"', { instances: 1 }, 8),
      () => rateLimitCommand('', { maxOffsetsPerTrigger: 1 }),
      () => deployCommand(42, { version: 1 }),
      () => stopCommand('not-a-uuid'),
      () => startCommand(undefined),
      () => deleteCommand(`${ID}x`),
    ]) {
      expect(rejection(build)).toEqual({
        status: 404,
        body: { code: 'NOT_FOUND', message: 'query not found' },
      });
    }
  });

  it('answer 400 naming the field for a bad body', () => {
    expect(rejection(() => scaleCommand(ID, { instances: 9 }, 8))).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED', errors: [{ path: 'instances' }] },
    });
    expect(rejection(() => scaleCommand(ID, { instances: 1.5 }, 8)).status).toBe(400);
    expect(rejection(() => rateLimitCommand(ID, { maxOffsetsPerTrigger: 0 }))).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'maxOffsetsPerTrigger' }] },
    });
    expect(rejection(() => rateLimitCommand(ID, {})).status).toBe(400);
    expect(rejection(() => deployCommand(ID, { version: 2 ** 31 }))).toMatchObject({
      status: 400,
      body: { errors: [{ path: 'version' }] },
    });
    expect(rejection(() => deployCommand(ID, 'version: 2')).status).toBe(400);
  });
});
