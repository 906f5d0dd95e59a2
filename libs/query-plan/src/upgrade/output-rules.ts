// Rules for the projection and the sink. Spark, Structured Streaming Programming Guide, "Recovery
// Semantics after Changes in a Streaming Query": changes in projections are allowed (with a new
// output schema only if the sink accepts it); changing a Kafka sink's topic is allowed; changes
// of sink type are allowed only between some sinks.
import { canonicalJson } from '../plan/hash';
import type { OutputColumn } from '../plan/logical-plan';
import type { SinkSpec } from '../types';
import type { UpgradeChange, UpgradePair } from './upgrade-types';

export function outputChanges({ before, after }: UpgradePair): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  const projectOf = (pair: typeof before): string => {
    const project = pair.plan.operators.find((op) => op.op === 'project');
    return canonicalJson(project?.op === 'project' ? project.columns : null);
  };
  if (projectOf(before) !== projectOf(after)) {
    // The projection follows the stateful operator (or there is none), so it never feeds state;
    // a DISTINCT projection that does is the dedupe key and is judged by the dedupe rule.
    changes.push({
      kind: 'projection',
      severity: 'allowed',
      operator: 'project',
      path: 'sql',
      before: columns(before.plan.output),
      after: columns(after.plan.output),
      message: 'projection changed; it applies to rows emitted from now on',
    });
  }
  changes.push(...sinkChanges(before.spec.sink, after.spec.sink, before.plan.output, after.plan.output));
  return changes;
}

const columns = (output: OutputColumn[]): string =>
  `[${output.map((c) => `${c.name} ${c.type}`).join(', ')}]`;

/**
 * Changes that make a new checkpoint's `continue` unverifiable: where the old version stopped is
 * read from its commit markers, and a sink in another database has none of them (the engine would
 * take the old version's last batch for unwritten and count it again). The Kafka sink has no
 * connection of its own (it writes to the engine's cluster, where its markers are), so only a
 * PostgreSQL sink connection qualifies.
 */
export function continueBlockers(report: { changes: UpgradeChange[] }): UpgradeChange[] {
  return report.changes.filter((c) => c.kind === 'sink.connection');
}

function sinkType(sink: SinkSpec): 'kafka' | 'postgres' | 'file' | 'console' {
  return 'kafka' in sink ? 'kafka' : 'postgres' in sink ? 'postgres' : 'file' in sink ? 'file' : 'console';
}

function sinkChanges(
  was: SinkSpec,
  now: SinkSpec,
  outBefore: OutputColumn[],
  outAfter: OutputColumn[],
): UpgradeChange[] {
  const typeBefore = sinkType(was);
  const typeAfter = sinkType(now);
  if (typeBefore !== typeAfter) {
    // The "batch B is done" marker lives in the sink (Kafka: the consumer-group offset committed
    // in the batch's transaction; PostgreSQL: sluice_engine.sink_commits; console: the commit
    // log), so the new sink has none: the last batch may be written once more, to the new sink.
    const semantics =
      typeAfter === 'postgres'
        ? 'rows are now upserted by key into a table instead of appended to a log'
        : typeAfter === 'kafka'
          ? 'rows are now appended to a topic; readers see every update instead of the latest row per key'
          : typeAfter === 'file'
            ? 'rows are now appended to files in a directory (committed files are listed in its _sluice_metadata log)'
            : 'the console sink is at-least-once and keeps nothing';
    return [
      {
        kind: 'sink.type',
        severity: 'caveat',
        path: 'sink',
        before: typeBefore,
        after: typeAfter,
        message: `sink type changed (${typeBefore} → ${typeAfter}); earlier output stays in the old sink, the new one starts with the next batch (the last batch may be written again, as its marker was in the old sink); ${semantics}`,
      },
    ];
  }
  const changes: UpgradeChange[] = [];
  if ('kafka' in was && 'kafka' in now) {
    if (was.kafka.topic !== now.kafka.topic)
      changes.push({
        kind: 'sink.topic',
        severity: 'allowed',
        path: 'sink.kafka.topic',
        before: was.kafka.topic,
        after: now.kafka.topic,
        message: `sink topic changed (${was.kafka.topic} → ${now.kafka.topic}); earlier output stays in the old topic`,
      });
    const keyBefore = (was.kafka.key ?? []).join(', ');
    const keyAfter = (now.kafka.key ?? []).join(', ');
    if (keyBefore !== keyAfter)
      changes.push({
        kind: 'sink.key',
        severity: 'caveat',
        path: 'sink.kafka.key',
        before: `[${keyBefore}]`,
        after: `[${keyAfter}]`,
        message:
          'Kafka record key changed; records of one group may land in another partition than before, so per-key order across the switch is lost and compacted topics keep both keys',
      });
  }
  if ('file' in was && 'file' in now)
    changes.push(...fileSinkChanges(was.file, now.file, outBefore, outAfter));
  if ('postgres' in was && 'postgres' in now) {
    const a = was.postgres;
    const b = now.postgres;
    if (a.connection !== b.connection)
      changes.push({
        kind: 'sink.connection',
        severity: 'caveat',
        path: 'sink.postgres.connection',
        before: a.connection,
        after: b.connection,
        message: `sink connection changed (${a.connection} → ${b.connection}); rows now go to another database, earlier results stay in the old one. The old version's commit markers (sluice_engine.sink_commits) stay in the old database, where the new version cannot see them. In place: a batch the old version wrote but did not record in its commit log (a killed instance) is written again, into the new database (an upsert of the same rows). On a new checkpoint continuing from the old offsets: refused, because where the old version stopped cannot be verified; upgrade with startingOffsets earliest or latest, or in place`,
      });
    if (a.table !== b.table)
      changes.push({
        kind: 'sink.table',
        severity: 'allowed',
        path: 'sink.postgres.table',
        before: a.table,
        after: b.table,
        message: `sink table changed (${a.table} → ${b.table}); the new table is created with the new columns, earlier results stay in the old one`,
      });
    else if (a.connection === b.connection)
      changes.push(...sameTableChanges(a.key, b.key, outBefore, outAfter));
  }
  return changes;
}

/**
 * A file sink's markers live in its directory (`_sluice_metadata`), so a new path starts with none;
 * files already written are never rewritten, so new columns or formats only change new files.
 */
function fileSinkChanges(
  was: { path: string; format: string },
  now: { path: string; format: string },
  outBefore: OutputColumn[],
  outAfter: OutputColumn[],
): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  if (was.path !== now.path)
    changes.push({
      kind: 'sink.path',
      severity: 'allowed',
      path: 'sink.file.path',
      before: was.path,
      after: now.path,
      message: `file sink directory changed (${was.path} → ${now.path}); earlier files stay in the old directory`,
    });
  if (was.format !== now.format)
    changes.push({
      kind: 'sink.format',
      severity: 'caveat',
      path: 'sink.file.format',
      before: was.format,
      after: now.format,
      message: `file format changed (${was.format} → ${now.format})${was.path === now.path ? '; the directory then holds files of both formats, which one reader of the directory cannot read together' : ''}`,
    });
  const columns = (cs: OutputColumn[]): string => cs.map((c) => `${c.name} ${c.type}`).join(', ');
  if (was.path === now.path && columns(outBefore) !== columns(outAfter))
    changes.push({
      kind: 'sink.columns',
      severity: 'caveat',
      path: 'sink.file.path',
      before: columns(outBefore),
      after: columns(outAfter),
      message:
        'output columns changed; earlier files keep the old columns, so a reader of the directory sees two schemas (Spark would need mergeSchema)',
    });
  return changes;
}

/**
 * The engine creates the table with CREATE TABLE IF NOT EXISTS and never alters it, and upserts
 * with ON CONFLICT on the key: on an existing table a new column, a new type or a new key fails
 * every batch.
 */
function sameTableChanges(
  keyBefore: string[],
  keyAfter: string[],
  outBefore: OutputColumn[],
  outAfter: OutputColumn[],
): UpgradeChange[] {
  const changes: UpgradeChange[] = [];
  if (keyBefore.join(',') !== keyAfter.join(','))
    changes.push({
      kind: 'sink.key',
      severity: 'incompatible',
      path: 'sink.postgres.key',
      before: `[${keyBefore.join(', ')}]`,
      after: `[${keyAfter.join(', ')}]`,
      message:
        'sink key changed on the same table; its primary key is the old one, so the upserts fail: write to a new table (allowed) or change the primary key first',
    });
  const old = new Map(outBefore.map((c) => [c.name, c.type]));
  const next = new Map(outAfter.map((c) => [c.name, c.type]));
  for (const name of new Set([...old.keys(), ...next.keys()])) {
    const was = old.get(name);
    const now = next.get(name);
    if (was === now) continue;
    const path = 'sink.postgres.table';
    if (now === undefined)
      changes.push({
        kind: 'sink.columns',
        severity: 'caveat',
        path,
        before: `${name} ${was}`,
        message: `output column "${name}" removed; the table keeps it, and new rows leave it NULL (or fail if it is NOT NULL)`,
      });
    else
      changes.push({
        kind: 'sink.columns',
        severity: 'incompatible',
        path,
        ...(was !== undefined ? { before: `${name} ${was}` } : {}),
        after: `${name} ${now}`,
        message: `output column "${name}" ${was === undefined ? 'added' : `changed type (${was} → ${now})`}; the existing table is not altered, so the inserts fail: write to a new table (allowed) or ALTER the table first`,
      });
  }
  return changes;
}
