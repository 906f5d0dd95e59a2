import { describe, expect, it } from 'vitest';
import { parseControlCommand } from './control';
import { dlqTopic, engineGroupId, repartitionTopic } from './topics';

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
});
