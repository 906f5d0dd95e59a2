// Checkpoint compatibility of two plan versions (Spark's rules for restarting from a checkpoint):
// the stateful operators must be the same, with the same state schemas, over the same source
// topics and number of shuffle partitions. Filters and projections may change freely.
import { canonicalJson } from './hash';
import { isStateful, type LogicalPlan } from './logical-plan';

export function comparePlans(a: LogicalPlan, b: LogicalPlan): { compatible: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (a.version !== b.version) reasons.push(`plan format version changed (${a.version} → ${b.version})`);
  if (a.numShufflePartitions !== b.numShufflePartitions) {
    reasons.push(
      `numShufflePartitions changed (${a.numShufflePartitions} → ${b.numShufflePartitions}); it is fixed for the life of a checkpoint`,
    );
  }
  const topicsA = [...a.sourceTopics].sort();
  const topicsB = [...b.sourceTopics].sort();
  if (canonicalJson(topicsA) !== canonicalJson(topicsB))
    reasons.push(`source topics changed (${topicsA.join(', ')} → ${topicsB.join(', ')})`);
  const statefulA = a.operators.filter(isStateful);
  const statefulB = b.operators.filter(isStateful);
  const ids = [...new Set([...statefulA, ...statefulB].map((op) => op.id))];
  for (const id of ids) {
    const before = statefulA.find((op) => op.id === id);
    const after = statefulB.find((op) => op.id === id);
    if (!before) reasons.push(`stateful operator "${id}" was added`);
    else if (!after) reasons.push(`stateful operator "${id}" was removed`);
    else if (canonicalJson(before.stateSchema) !== canonicalJson(after.stateSchema)) {
      reasons.push(
        `state schema of "${id}" changed (${describe(before.stateSchema)} → ${describe(after.stateSchema)})`,
      );
    } else if (before.hash !== after.hash) {
      reasons.push(
        `stateful operator "${id}" changed (hash ${before.hash.slice(0, 12)} → ${after.hash.slice(0, 12)})`,
      );
    }
  }
  return { compatible: reasons.length === 0, reasons };
}

function describe(schema: {
  key: Array<{ name: string; type: string }>;
  value: Array<{ name: string; type: string }>;
}): string {
  const fields = (list: Array<{ name: string; type: string }>): string =>
    list.map((f) => `${f.name}: ${f.type}`).join(', ');
  return `key [${fields(schema.key)}], value [${fields(schema.value)}]`;
}
