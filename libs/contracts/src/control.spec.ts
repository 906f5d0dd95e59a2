import { describe, expect, it } from 'vitest';
import { parseControlCommand } from './control';
import { checkpointScope, dlqTopic, engineGroupId, repartitionTopic } from './topics';

describe('control commands', () => {
  it('parses setRateLimit (number or null) and drain', () => {
    expect(
      parseControlCommand({ type: 'setRateLimit', commandId: 'c1', queryId: 'q', maxOffsetsPerTrigger: 500 }),
    ).toMatchObject({
      maxOffsetsPerTrigger: 500,
    });
    expect(
      parseControlCommand({ type: 'setRateLimit', commandId: 'c2', queryId: 'q', maxOffsetsPerTrigger: null })
        .type,
    ).toBe('setRateLimit');
    expect(parseControlCommand({ type: 'drain', commandId: 'c3', queryId: 'q' }).type).toBe('drain');
    expect(
      parseControlCommand({ type: 'drain', commandId: 'c4', queryId: 'q', instance: 'q-0', version: 2 }),
    ).toMatchObject({ instance: 'q-0', version: 2 });
    expect(() =>
      parseControlCommand({ type: 'drain', commandId: 'c5', queryId: 'q', instance: 'q-0', version: 0 }),
    ).toThrow(/\$\.version/);
  });

  it('names the field at fault', () => {
    expect(() =>
      parseControlCommand({ type: 'setRateLimit', commandId: 'c', queryId: 'q', maxOffsetsPerTrigger: -1 }),
    ).toThrow(/\$\.maxOffsetsPerTrigger/);
    expect(() => parseControlCommand({ type: 'explode', commandId: 'c', queryId: 'q' })).toThrow(/\$\.type/);
  });

  it('derives per-query topic and group names', () => {
    expect(dlqTopic('abc')).toBe('sluice.abc.dlq');
    expect(repartitionTopic('abc')).toBe('sluice.abc.repartition');
    expect(engineGroupId('abc')).toBe('sluice-abc');
  });

  it('keeps the plain query id for checkpoint epoch 0 and suffixes later epochs', () => {
    expect(checkpointScope('abc')).toBe('abc');
    expect(checkpointScope('abc', 0)).toBe('abc');
    expect(checkpointScope('abc', 2)).toBe('abc.c2');
    expect(repartitionTopic(checkpointScope('abc', 2))).toBe('sluice.abc.c2.repartition');
    expect(engineGroupId(checkpointScope('abc', 2))).toBe('sluice-abc.c2');
    expect(() => checkpointScope('abc', -1)).toThrow(/epoch/);
    expect(() => checkpointScope('abc', 1.5)).toThrow(/epoch/);
  });
});
