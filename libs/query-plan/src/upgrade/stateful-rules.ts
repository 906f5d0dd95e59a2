// Rules for the stateful operator (aggregate or dedupe), the watermark, and the filter in front of
// it. Spark, Structured Streaming Programming Guide, "Recovery Semantics after Changes in a
// Streaming Query" → "Changes in stateful operations": the schema of the state must stay the same,
// so changes to the grouping keys or aggregates of a streaming aggregation, and to the
// deduplicating columns of a streaming deduplication, are not allowed. Spark checks the state
// *schema*; here the operator definition is compared too, which catches what the schema misses.
import type { Expr } from '../plan/expr';
import { displayExpr } from '../plan/expr-display';
import { outputType } from '../plan/expr-types';
import { canonicalJson } from '../plan/hash';
import type {
  AggregateOperator,
  DedupeOperator,
  StatefulFunctionOperator,
  StatefulOperator,
} from '../plan/logical-plan';
import { scanOf, statefulOf } from './plan-columns';
import type { UpgradeChange, UpgradePair } from './upgrade-types';

export function statefulChanges(pair: UpgradePair): UpgradeChange[] {
  const before = statefulOf(pair.before.plan);
  const after = statefulOf(pair.after.plan);
  const changes: UpgradeChange[] = [];
  if (!before && !after) return [...watermarkChanges(pair, undefined), ...filterChanges(pair, undefined)];
  if (!before || !after || before.op !== after.op) {
    const was = before?.op ?? 'none';
    const now = after?.op ?? 'none';
    changes.push({
      kind: !before ? 'stateful.added' : !after ? 'stateful.removed' : 'stateful.replaced',
      severity: 'incompatible',
      operator: (after ?? before)?.id,
      before: was,
      after: now,
      message: !before
        ? `stateful operator "${now}" added; it would start empty while the offsets say earlier input was already processed`
        : !after
          ? `stateful operator "${was}" removed; its checkpointed state would be orphaned`
          : `stateful operator changed from "${was}" to "${now}"; the checkpointed state belongs to the old one`,
    });
    return [...changes, ...filterChanges(pair, after)];
  }
  if (before.op === 'aggregate' && after.op === 'aggregate') changes.push(...aggregateChanges(before, after));
  if (before.op === 'dedupe' && after.op === 'dedupe') changes.push(...dedupeChanges(before, after));
  if (before.op === 'stateful' && after.op === 'stateful')
    changes.push(...statefulFunctionChanges(before, after));
  changes.push(...watermarkChanges(pair, after));
  if (!changes.some((c) => c.severity === 'incompatible') && comparable(before) !== comparable(after)) {
    // Backstop for a definition change no rule above names (e.g. the event-time grouping key).
    changes.push({
      kind: 'stateful.changed',
      severity: 'incompatible',
      operator: after.id,
      before: before.hash.slice(0, 12),
      after: after.hash.slice(0, 12),
      message: `stateful operator "${after.id}" changed (hash ${before.hash.slice(0, 12)} → ${after.hash.slice(0, 12)}); its state was built by the old definition`,
    });
  }
  return [...changes, ...filterChanges(pair, after)];
}

/** The operator without what may change freely (its hash, the watermark delay). */
function comparable(op: StatefulOperator): string {
  const { hash: _hash, ...rest } = op;
  if (rest.op === 'stateful') {
    // The code may change (a caveat, statefulFunctionChanges); the state layout may not.
    const { module: _m, export: _e, timeout: _t, sourceSha256: _s, ...layout } = rest;
    return canonicalJson(layout);
  }
  if (rest.op === 'dedupe' && rest.expiry)
    return canonicalJson({ ...rest, expiry: { eventTimeColumn: rest.expiry.eventTimeColumn } });
  return canonicalJson(rest);
}

function describeKey(key: { name: string; expr: Expr }): string {
  const type = outputType(key.expr.type);
  // Expression keys get internal names ("$k0"): show the expression alone then.
  if (key.name.startsWith('$') || (key.expr.kind === 'column' && key.expr.name === key.name))
    return `${key.expr.kind === 'column' ? key.expr.name : displayExpr(key.expr)} ${type}`;
  return `${key.name} = ${displayExpr(key.expr)} ${type}`;
}

const list = (items: string[]): string => `[${items.join(', ')}]`;

function aggregateChanges(before: AggregateOperator, after: AggregateOperator): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  const keysBefore = list(before.keys.map(describeKey));
  const keysAfter = list(after.keys.map(describeKey));
  if (keysBefore !== keysAfter) {
    changes.push({
      kind: 'aggregate.keys',
      severity: 'incompatible',
      operator: 'aggregate',
      path: 'sql',
      before: keysBefore,
      after: keysAfter,
      message: `grouping keys changed (${keysBefore} → ${keysAfter}); stored groups are keyed by the old keys`,
    });
  }
  // The state value is one buffer per aggregate call ("sum(bytes): long", avg keeps sum and count).
  const buffers = (op: AggregateOperator): string =>
    list(op.stateSchema.value.map((v) => `${v.name}: ${v.type}`));
  if (buffers(before) !== buffers(after)) {
    changes.push({
      kind: 'aggregate.functions',
      severity: 'incompatible',
      operator: 'aggregate',
      path: 'sql',
      before: buffers(before),
      after: buffers(after),
      message: `aggregate functions or their state buffers changed (${buffers(before)} → ${buffers(after)}); stored buffers hold the old aggregates`,
    });
  }
  // Spark misses this one: its state key is the window struct, whose schema does not depend on
  // the size, so it accepts a new size or slide and mixes old and new windows in one result.
  const windowOf = (op: AggregateOperator): string =>
    op.window
      ? `window(${op.window.column}, ${op.window.sizeMs} ms, ${op.window.slideMs} ms)`
      : op.session
        ? `session_window(${op.session.column}, gap ${op.session.gapMs} ms)`
        : 'none';
  if (before.session && after.session && before.session.column === after.session.column) {
    changes.push(...sessionGapChanges(before.session.gapMs, after.session.gapMs));
  } else if (windowOf(before) !== windowOf(after)) {
    changes.push({
      kind: 'aggregate.window',
      severity: 'incompatible',
      operator: 'aggregate',
      path: 'sql',
      before: windowOf(before),
      after: windowOf(after),
      message: `window changed (${windowOf(before)} → ${windowOf(after)}); stored groups belong to the old windows, so open windows would be counted under two definitions`,
    });
  }
  return changes;
}

/**
 * Stored sessions were merged under the old gap: under a new one, rows would join or split them
 * by a rule they were not built with (Spark does not check it; its state schema has no gap).
 */
function sessionGapChanges(was: number, now: number): UpgradeChange[] {
  if (was === now) return [];
  return [
    {
      kind: 'aggregate.sessionGap',
      severity: 'incompatible',
      operator: 'aggregate',
      path: 'sql',
      before: `${was} ms`,
      after: `${now} ms`,
      message: `session_window gap changed (${was} → ${now} ms); the stored sessions were merged under the old gap, so open sessions would be closed or joined by two rules`,
    },
  ];
}

/**
 * A stateful function's stored state is what its stateSchema declares, keyed by its key columns:
 * a change to either is incompatible (Spark compares the state schema). A new module, export or
 * timeout resumes on the old state: a caveat, since new code reads state the old code wrote.
 */
function statefulFunctionChanges(
  before: StatefulFunctionOperator,
  after: StatefulFunctionOperator,
): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  const fields = (op: StatefulFunctionOperator, side: 'key' | 'value'): string =>
    list(op.stateSchema[side].map((f) => `${f.name} ${f.type}`));
  for (const side of ['key', 'value'] as const) {
    const was = fields(before, side);
    const now = fields(after, side);
    if (was !== now)
      changes.push({
        kind: side === 'key' ? 'stateful.key' : 'stateful.stateSchema',
        severity: 'incompatible',
        operator: 'stateful',
        path: side === 'key' ? 'stateful.key' : 'stateful.stateSchema',
        before: was,
        after: now,
        message: `stateful function ${side === 'key' ? 'key' : 'state schema'} changed (${was} → ${now}); the stored state was written under the old one`,
      });
  }
  const code = (op: StatefulFunctionOperator): string =>
    `${op.module}${op.sourceSha256 ? ` sha256:${op.sourceSha256.slice(0, 12)}` : ''}#${op.export} (timeout ${op.timeout})`;
  if (code(before) !== code(after))
    changes.push({
      kind: 'stateful.function',
      severity: 'caveat',
      operator: 'stateful',
      path: 'stateful',
      before: code(before),
      after: code(after),
      message: `stateful function changed (${code(before)} → ${code(after)}); the new code resumes on state the old code wrote`,
    });
  return changes;
}

function dedupeChanges(before: DedupeOperator, after: DedupeOperator): UpgradeChange[] {
  const changes = withinWatermarkChanges(before, after);
  const was = list(before.keys.map(describeKey));
  const now = list(after.keys.map(describeKey));
  if (was === now) return changes;
  return [
    ...changes,
    {
      kind: 'dedupe.columns',
      severity: 'incompatible',
      operator: 'dedupe',
      path: 'sql',
      before: was,
      after: now,
      message: `deduplication columns changed (${was} → ${now}); the keys already seen were stored under the old columns`,
    },
  ];
}

/**
 * dropDuplicatesWithinWatermark stores each key's expiry (event time + delay), plain
 * deduplication its event time: the stored values mean different things, so switching between
 * them is incompatible. A new delay applies to keys first seen after the upgrade only.
 */
function withinWatermarkChanges(before: DedupeOperator, after: DedupeOperator): UpgradeChange[] {
  const mode = (op: DedupeOperator): string => (op.withinWatermark ? 'withinWatermark' : 'plain');
  if (mode(before) !== mode(after))
    return [
      {
        kind: 'dedupe.withinWatermark',
        severity: 'incompatible',
        operator: 'dedupe',
        path: 'options.dedupe.withinWatermark',
        before: mode(before),
        after: mode(after),
        message: `deduplication changed from ${mode(before)} to ${mode(after)}; the stored keys hold ${before.withinWatermark ? 'expiry times (event time + delay)' : 'event times'}, which the new operator would read as ${after.withinWatermark ? 'expiry times' : 'event times'}`,
      },
    ];
  const wasDelay = before.expiry?.delayMs;
  const nowDelay = after.expiry?.delayMs;
  if (after.withinWatermark && wasDelay !== undefined && nowDelay !== undefined && wasDelay !== nowDelay)
    return [
      {
        kind: 'dedupe.expiry',
        severity: 'caveat',
        operator: 'dedupe',
        path: 'options.dedupe.withinWatermark',
        before: `${wasDelay} ms`,
        after: `${nowDelay} ms`,
        message: `the watermark delay changed (${wasDelay} → ${nowDelay} ms) under withinWatermark deduplication; keys already stored keep the expiry of the old delay, keys first seen after the upgrade get the new one`,
      },
    ];
  return [];
}

function watermarkChanges({ before, after }: UpgradePair, op: StatefulOperator | undefined): UpgradeChange[] {
  const was = scanOf(before.plan)?.watermark;
  const now = scanOf(after.plan)?.watermark;
  const path = `sources.${scanOf(after.plan)?.source ?? ''}.watermark`;
  const changes: UpgradeChange[] = [];
  if (was?.column !== now?.column && !op) {
    changes.push({
      kind: 'watermark.column',
      severity: 'allowed',
      operator: 'scan',
      path: `${path}.column`,
      ...(was ? { before: was.column } : {}),
      ...(now ? { after: now.column } : {}),
      message: `watermark column changed (${was?.column ?? 'none'} → ${now?.column ?? 'none'}); the query keeps no state it would evict`,
    });
  } else if (op && was?.column !== now?.column) {
    changes.push({
      kind: 'watermark.column',
      severity: 'incompatible',
      operator: op.id,
      path: `${path}.column`,
      before: was?.column ?? 'none',
      after: now?.column ?? 'none',
      message: `watermark column changed (${was?.column ?? 'none'} → ${now?.column ?? 'none'}); "${op.id}" evicts state by event time, and the stored event times and watermarks are of the old column`,
    });
  } else if (was && now && was.delayMs !== now.delayMs) {
    changes.push({
      kind: 'watermark.delay',
      severity: 'allowed',
      operator: op?.id ?? 'scan',
      path: `${path}.delay`,
      before: `${was.delayMs} ms`,
      after: `${now.delayMs} ms`,
      message: `watermark delay changed (${was.delayMs} → ${now.delayMs} ms); it applies from the next batch (a watermark never moves back)`,
    });
  }
  return changes;
}

/** The filter decides which rows reach the state: changing it in a stateful plan mixes logics. */
function filterChanges(
  { before, after }: UpgradePair,
  stateful: StatefulOperator | undefined,
): UpgradeChange[] {
  const filterOf = (ops: typeof before.plan.operators): Expr | undefined => {
    const filter = ops.find((o) => o.op === 'filter');
    return filter?.op === 'filter' ? filter.condition : undefined;
  };
  const was = filterOf(before.plan.operators);
  const now = filterOf(after.plan.operators);
  if (canonicalJson(was ?? null) === canonicalJson(now ?? null)) return [];
  const show = (e: Expr | undefined): string => (e ? displayExpr(e) : 'none');
  const base = { kind: 'filter', operator: 'filter', path: 'sql', before: show(was), after: show(now) };
  if (stateful)
    return [
      {
        ...base,
        severity: 'caveat',
        message: `filter changed (${show(was)} → ${show(now)}); it feeds "${stateful.id}", whose state mixes rows selected by the old and the new filter`,
      },
    ];
  return [
    {
      ...base,
      severity: 'allowed',
      message: `filter changed (${show(was)} → ${show(now)}); it applies to new batches`,
    },
  ];
}
