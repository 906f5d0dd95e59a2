// Rules for what is not an operator: plan format, shuffle partitions, output mode, trigger, the
// read-rate options and the state store.
import type { QueryOptions } from '../types';
import { statefulOf } from './plan-columns';
import type { UpgradeChange, UpgradePair } from './upgrade-types';

export function queryChanges({ before, after }: UpgradePair): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  const stateful = statefulOf(before.plan) !== undefined || statefulOf(after.plan) !== undefined;
  if (before.plan.version !== after.plan.version) {
    changes.push({
      kind: 'plan.version',
      severity: 'incompatible',
      before: String(before.plan.version),
      after: String(after.plan.version),
      message: `plan format version changed (${before.plan.version} → ${after.plan.version}); state and offsets written under the old format are not read by the new one`,
    });
  }
  if (before.plan.numShufflePartitions !== after.plan.numShufflePartitions) {
    // Spark: spark.sql.shuffle.partitions is fixed for a checkpoint. Here a key's shuffle
    // partition is hash(key) mod N, and state and the repartition topic are per partition; the
    // engine also refuses a checkpoint created with another N (query-runner), stateful or not.
    changes.push({
      kind: 'plan.numShufflePartitions',
      severity: 'incompatible',
      path: 'options.numShufflePartitions',
      before: String(before.plan.numShufflePartitions),
      after: String(after.plan.numShufflePartitions),
      message: `numShufflePartitions changed (${before.plan.numShufflePartitions} → ${after.plan.numShufflePartitions}); it is fixed for the life of a checkpoint${stateful ? ': state is partitioned by hash(key) mod numShufflePartitions' : ' (the engine refuses a checkpoint created with another value)'}`,
    });
  }
  if (before.plan.outputMode !== after.plan.outputMode)
    changes.push(outputModeChange(before.plan.outputMode, after.plan.outputMode, stateful));
  changes.push(...optionChanges(before.spec.options, after.spec.options));
  const triggerBefore = JSON.stringify(before.spec.trigger);
  const triggerAfter = JSON.stringify(after.spec.trigger);
  if (triggerBefore !== triggerAfter)
    changes.push({
      kind: 'trigger',
      severity: 'allowed',
      path: 'trigger',
      before: triggerBefore,
      after: triggerAfter,
      message: 'trigger changed; it only decides when batches run',
    });
  if (before.spec.name !== after.spec.name)
    changes.push({
      kind: 'name',
      severity: 'allowed',
      path: 'name',
      before: before.spec.name,
      after: after.spec.name,
      message: 'query name changed; the checkpoint belongs to the query id',
    });
  return changes;
}

function outputModeChange(was: string, now: string, stateful: boolean): UpgradeChange {
  const base = { kind: 'plan.outputMode', path: 'outputMode', before: was, after: now };
  if (!stateful)
    return {
      ...base,
      severity: 'allowed',
      message: `output mode changed (${was} → ${now}); a stateless query emits each row once in either mode`,
    };
  // The state store holds the same entries in every mode (state-store/shuffle-stage), so the
  // checkpoint stays readable, but what was already emitted does not match the new mode.
  const why =
    now === 'complete'
      ? 'groups evicted under the old mode are gone, so the first complete outputs miss them'
      : was === 'complete'
        ? 'groups kept forever under complete mode are evicted by the watermark from now on'
        : now === 'append'
          ? 'groups already emitted as updates are emitted again once final (duplicates in a Kafka sink)'
          : 'groups already emitted as final are not emitted again; open groups are now emitted on every change';
  return { ...base, severity: 'caveat', message: `output mode changed (${was} → ${now}); ${why}` };
}

const RATE_OPTIONS = [
  'maxOffsetsPerTrigger',
  'minOffsetsPerTrigger',
  'maxTriggerDelayMs',
  'failOnDataLoss',
] as const;

function optionChanges(before: QueryOptions, after: QueryOptions): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  // Spark (same guide section): adding, removing or changing rate limits is allowed; they only
  // decide how far each new batch reads. failOnDataLoss only decides how a gap is handled.
  for (const option of RATE_OPTIONS) {
    const was = before[option];
    const now = after[option];
    if (was === now) continue;
    changes.push({
      kind: option === 'failOnDataLoss' ? 'options.failOnDataLoss' : 'options.rate',
      severity: 'allowed',
      path: `options.${option}`,
      ...(was !== undefined ? { before: String(was) } : {}),
      ...(now !== undefined ? { after: String(now) } : {}),
      message: `${option} changed (${was ?? 'unset'} → ${now ?? 'unset'}); it only applies to batches planned from now on`,
    });
  }
  if ((before.stateStore ?? 'memory') !== (after.stateStore ?? 'memory'))
    changes.push({
      kind: 'options.stateStore',
      severity: 'allowed',
      path: 'options.stateStore',
      before: before.stateStore ?? 'memory',
      after: after.stateStore ?? 'memory',
      // Both providers write the same checkpoint files (engine state-files.ts).
      message: `stateStore changed (${before.stateStore ?? 'memory'} → ${after.stateStore ?? 'memory'}); the checkpoint is the same for every state store, the new version restores its state from it`,
    });
  return changes;
}
