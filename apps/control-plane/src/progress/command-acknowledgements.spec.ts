import { describe, expect, it } from 'vitest';
import { acknowledgements, reportingInstance, type AckRow } from './command-acknowledgements';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const row = (s: number, instance: string | null, sluice?: Record<string, unknown>): AckRow => ({
  instance,
  timestamp: at(s),
  payload: sluice ? { sluice } : {},
});

describe('command acknowledgements', () => {
  it('counts a re-sent command under any of its ids, once per instance at its first event', () => {
    const rows = [
      row(1, 'q-0', { instance: 'q-0', ackedCommands: [] }),
      row(2, 'q-1', { instance: 'q-1', ackedCommands: ['retry'] }),
      row(3, 'q-0', { instance: 'q-0', ackedCommands: ['first'] }),
      row(4, 'q-1', { instance: 'q-1', ackedCommands: ['first'] }),
      row(5, 'q-2', { instance: 'q-2', ackedCommands: ['other'] }),
    ];
    expect([...acknowledgements(rows, ['first', 'retry'])]).toEqual([
      ['q-1', at(2)],
      ['q-0', at(3)],
    ]);
    expect([...acknowledgements(rows, 'retry')]).toEqual([['q-1', at(2)]]);
  });

  it("names the instance from the engine's own payload before the stored column", () => {
    expect(reportingInstance(row(1, 'column', { instance: 'payload' }))).toBe('payload');
    expect(reportingInstance(row(1, 'column'))).toBe('column');
    expect(reportingInstance({ instance: null, timestamp: at(1), payload: null })).toBe('?');
  });
});
