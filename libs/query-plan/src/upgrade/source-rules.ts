// Rules for the sources: what is read, how it is decoded, and the read options.
// Spark, Structured Streaming Programming Guide, "Recovery Semantics after Changes in a Streaming
// Query": changes in the number or type of input sources and in the subscribed topics are not
// allowed; adding, removing or changing rate limits (maxOffsetsPerTrigger) is.
import type { SourceSpec } from '../types';
import { filterColumnsFeedingState, scanOf, stateColumns } from './plan-columns';
import type { UpgradeChange, UpgradePair } from './upgrade-types';

export function sourceChanges({ before, after }: UpgradePair): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  const scansBefore = before.plan.operators.filter((op) => op.op === 'scan');
  const scansAfter = after.plan.operators.filter((op) => op.op === 'scan');
  if (scansBefore.length !== scansAfter.length) {
    // Offsets are checkpointed per source partition: a source without an offset log, or an
    // offset log without a source, has no defined place to resume from.
    changes.push({
      kind: 'source.count',
      severity: 'incompatible',
      operator: 'scan',
      before: String(scansBefore.length),
      after: String(scansAfter.length),
      message: `the query reads ${scansBefore.length} → ${scansAfter.length} sources; the checkpoint's offsets are per source`,
    });
    return changes;
  }
  const scanBefore = scanOf(before.plan);
  const scanAfter = scanOf(after.plan);
  if (!scanBefore || !scanAfter) return changes;
  const oldSource = before.spec.sources[scanBefore.source];
  const newSource = after.spec.sources[scanAfter.source];
  const path = `sources.${scanAfter.source}`;

  if (oldSource && newSource && sourceType(oldSource) !== sourceType(newSource)) {
    changes.push({
      kind: 'source.type',
      severity: 'incompatible',
      operator: 'scan',
      path,
      before: sourceType(oldSource),
      after: sourceType(newSource),
      message: `source type changed (${sourceType(oldSource)} → ${sourceType(newSource)}); the checkpointed offsets belong to the old system`,
    });
  }
  const topicsBefore = [...before.plan.sourceTopics].sort().join(', ');
  const topicsAfter = [...after.plan.sourceTopics].sort().join(', ');
  if (topicsBefore !== topicsAfter) {
    changes.push({
      kind: 'source.topic',
      severity: 'incompatible',
      operator: 'scan',
      path: `${path}.kafka.topic`,
      before: topicsBefore,
      after: topicsAfter,
      message: `subscribed topics changed (${topicsBefore} → ${topicsAfter}); offsets and tasks are per topic partition, so what would be read is undefined`,
    });
  }
  if (scanBefore.source !== scanAfter.source) {
    // The source name is only the table name in the SQL; tasks are named after the topic.
    changes.push({
      kind: 'source.name',
      severity: 'allowed',
      operator: 'scan',
      path,
      before: scanBefore.source,
      after: scanAfter.source,
      message: `source renamed (${scanBefore.source} → ${scanAfter.source}); the checkpoint knows sources by topic`,
    });
  }
  if (scanBefore.format !== scanAfter.format) {
    changes.push({
      kind: 'source.format',
      severity: 'incompatible',
      operator: 'scan',
      path: `${path}.format`,
      before: scanBefore.format,
      after: scanAfter.format,
      message: `record format changed (${scanBefore.format} → ${scanAfter.format}); records not yet read would be decoded as a format they were not written in, and replayed batches would differ from what the checkpoint recorded`,
    });
  }
  changes.push(...schemaChanges(pairOf(before, after), path));
  if (oldSource && newSource) changes.push(...readOptionChanges(oldSource, newSource, path));
  const read = [scanBefore.source, scanAfter.source];
  changes.push(
    ...unreadSourceChanges(Object.keys(before.spec.sources), Object.keys(after.spec.sources), read),
  );
  return changes;
}

const pairOf = (before: UpgradePair['before'], after: UpgradePair['after']): UpgradePair => ({
  before,
  after,
});

/** The source system: the one key of a source spec that is not about decoding. */
function sourceType(source: SourceSpec): string {
  return Object.keys(source)
    .filter((k) => k !== 'format' && k !== 'schema' && k !== 'watermark')
    .sort()
    .join('+');
}

function schemaChanges({ before, after }: UpgradePair, path: string): UpgradeChange[] {
  const oldSchema = new Map((scanOf(before.plan)?.schema ?? []).map((c) => [c.name, c.type]));
  const newSchema = new Map((scanOf(after.plan)?.schema ?? []).map((c) => [c.name, c.type]));
  const state = new Set([...stateColumns(before.plan), ...stateColumns(after.plan)]);
  const filter = new Set([
    ...filterColumnsFeedingState(before.plan),
    ...filterColumnsFeedingState(after.plan),
  ]);
  const changes: UpgradeChange[] = [];
  for (const name of new Set([...oldSchema.keys(), ...newSchema.keys()])) {
    const was = oldSchema.get(name);
    const now = newSchema.get(name);
    if (was === now) continue;
    const what =
      was === undefined ? 'added' : now === undefined ? 'removed' : `type changed (${was} → ${now})`;
    const base = { kind: 'source.schema', operator: 'scan', path: `${path}.schema.${name}` };
    const values = {
      ...(was !== undefined ? { before: was } : {}),
      ...(now !== undefined ? { after: now } : {}),
    };
    if (state.has(name)) {
      changes.push({
        ...base,
        severity: 'incompatible',
        ...values,
        message: `field "${name}" ${what}; it feeds the state (keys, aggregate inputs, window or event time), whose stored values were computed from the old field`,
      });
    } else if (filter.has(name)) {
      changes.push({
        ...base,
        severity: 'caveat',
        ...values,
        message: `field "${name}" ${what}; the filter in front of the state reads it, so rows selected by old and new definitions mix in the same state`,
      });
    } else {
      changes.push({
        ...base,
        severity: 'allowed',
        ...values,
        message: `field "${name}" ${what}; it only reaches projections or stateless filters`,
      });
    }
  }
  return changes;
}

function readOptionChanges(oldSource: SourceSpec, newSource: SourceSpec, path: string): UpgradeChange[] {
  if (!('kafka' in oldSource) || !('kafka' in newSource)) return [];
  const was = JSON.stringify(oldSource.kafka?.startingOffsets);
  const now = JSON.stringify(newSource.kafka?.startingOffsets);
  if (was === now) return [];
  // Spark: startingOffsets only applies when a query starts for the first time.
  return [
    {
      kind: 'source.startingOffsets',
      severity: 'allowed',
      operator: 'scan',
      path: `${path}.kafka.startingOffsets`,
      before: was,
      after: now,
      message:
        'startingOffsets changed; it is ignored when resuming: the query continues from the checkpointed offsets',
    },
  ];
}

function unreadSourceChanges(before: string[], after: string[], read: string[]): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  for (const name of after.filter((n) => !before.includes(n) && !read.includes(n)))
    changes.push({
      kind: 'source.unread',
      severity: 'allowed',
      path: `sources.${name}`,
      after: name,
      message: `source "${name}" declared; the SQL does not read it`,
    });
  for (const name of before.filter((n) => !after.includes(n) && !read.includes(n)))
    changes.push({
      kind: 'source.unread',
      severity: 'allowed',
      path: `sources.${name}`,
      before: name,
      message: `source "${name}" removed; the SQL did not read it`,
    });
  return changes;
}
