import { describe, expect, it } from 'vitest';
import { compileSpec, comparePlans, type LogicalPlan } from '../index';
import { querySpec, type SpecParts } from '../testing/spec-text';

const WINDOWED =
  "SELECT window.start AS ws, user_id, count(*) AS n, sum(bytes) AS b FROM clicks WHERE url LIKE '/p/%' GROUP BY window(ts, '1 minute'), user_id";

function compiled(parts: SpecParts): { plan: LogicalPlan; planHash: string } {
  const result = compileSpec(querySpec(parts));
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result;
}

const hashOf = (plan: LogicalPlan, id: string): string | undefined =>
  plan.operators.find((op) => op.id === id)?.hash;

describe('operator hashes', () => {
  it('are the same for the same spec, however it is formatted', () => {
    const a = compiled({ sql: WINDOWED });
    const b = compiled({ sql: WINDOWED.replace(/ /g, '\n  ').replace('\n  ', ' ') });
    expect(b.planHash).toBe(a.planHash);
    expect(b.plan.operators.map((op) => op.hash)).toEqual(a.plan.operators.map((op) => op.hash));
  });

  it('keep the aggregate hash when only the projection or the filter changes', () => {
    const before = compiled({ sql: WINDOWED }).plan;
    const after = compiled({
      sql: WINDOWED.replace('count(*) AS n', 'count(*) * 2 AS doubled').replace("'/p/%'", "'/q/%'"),
    }).plan;
    expect(hashOf(after, 'aggregate')).toBe(hashOf(before, 'aggregate'));
    expect(hashOf(after, 'project')).not.toBe(hashOf(before, 'project'));
    expect(hashOf(after, 'filter')).not.toBe(hashOf(before, 'filter'));
    expect(comparePlans(before, after)).toEqual({ compatible: true, reasons: [] });
  });

  it('change the aggregate hash when its keys, window or aggregates change', () => {
    const before = compiled({ sql: WINDOWED }).plan;
    for (const sql of [
      WINDOWED.replace("'1 minute'", "'2 minutes'"),
      WINDOWED.replace('sum(bytes)', 'max(bytes)'),
      WINDOWED.replace('ws, user_id,', 'ws,').replace('), user_id', ')'),
    ]) {
      const after = compiled({ sql }).plan;
      expect(hashOf(after, 'aggregate')).not.toBe(hashOf(before, 'aggregate'));
      const verdict = comparePlans(before, after);
      expect(verdict.compatible).toBe(false);
      expect(verdict.reasons).toEqual([expect.stringMatching(/"aggregate" changed/)]);
    }
  });
});

describe('comparePlans', () => {
  it('rejects a different number of shuffle partitions', () => {
    const before = compiled({ sql: WINDOWED }).plan;
    const after = compiled({ sql: WINDOWED, options: '{ numShufflePartitions: 16 }' }).plan;
    expect(comparePlans(before, after)).toEqual({
      compatible: false,
      reasons: [expect.stringMatching(/^numShufflePartitions changed \(8 → 16\)/)],
    });
  });

  it('rejects adding or removing a stateful operator, and other source topics', () => {
    const stateless = compiled({ sql: 'SELECT user_id FROM clicks' }).plan;
    const windowed = compiled({ sql: WINDOWED }).plan;
    expect(comparePlans(stateless, windowed).reasons).toEqual(['stateful operator "aggregate" was added']);
    expect(comparePlans(windowed, stateless).reasons).toEqual(['stateful operator "aggregate" was removed']);
    const otherTopic: LogicalPlan = { ...stateless, sourceTopics: ['views'] };
    expect(comparePlans(stateless, otherTopic).reasons).toEqual(['source topics changed (clicks → views)']);
  });

  it('accepts any change of a stateless query', () => {
    const before = compiled({ sql: 'SELECT user_id FROM clicks' }).plan;
    const after = compiled({ sql: 'SELECT upper(user_id) AS u, url FROM clicks WHERE bytes > 10' }).plan;
    expect(comparePlans(before, after).compatible).toBe(true);
  });
});
