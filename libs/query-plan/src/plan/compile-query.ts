// SELECT statement + spec → LogicalPlan: resolves the source and columns, types expressions,
// classifies the query (stateless / aggregate / dedupe) and applies the output-mode rules.
import type { PathSegment } from '../spec/spec-document';
import type { QuerySpec, SourceSpec } from '../types';
import { ExprBuilder } from '../sql/expr-builder';
import { columnName, nodeOffset, type ColumnRefNode, type SelectNode } from '../sql/sql-ast';
import { keywordOffset } from '../sql/sql-text';
import { buildPlan } from './build-plan';
import type { Expr } from './expr';
import { displayExpr } from './expr-display';
import { collect } from './expr-walk';
import { analyzeGroupBy, bindToGrouping, type Grouping } from './grouping';
import type { LogicalPlan } from './logical-plan';
import { checkOutputMode } from './output-mode';
import { compileStaticJoin, joinScope, resolveJoin, sideSchema, type JoinSide } from './join';
import { compileStreamJoin } from './stream-join';
import { outputType } from './expr-types';
import { compileStatefulFunction } from './stateful-function';

export interface QueryIssues {
  sql(offset: number, message: string): void;
  spec(path: PathSegment[], message: string): void;
}

interface SelectItem {
  name: string;
  expr: Expr;
  offset: number;
}

export function compileQuery(
  spec: QuerySpec,
  sql: string,
  select: SelectNode,
  issues: QueryIssues,
): { plan: LogicalPlan; warnings: string[] } | undefined {
  let failed = false;
  const report: QueryIssues = {
    sql: (offset, message) => ((failed = true), issues.sql(offset, message)),
    spec: (path, message) => ((failed = true), issues.spec(path, message)),
  };
  rejectUnsupportedClauses(select, sql, report);
  const from = resolveSource(select, spec, report);
  if (!from) return undefined;
  const { name: sourceName, source } = from;
  const streamScope = { name: sourceName, alias: from.alias, schema: source.schema };
  const builder = new ExprBuilder(from.join ? joinScope(streamScope, from.join) : streamScope);
  const join = from.join?.kind === 'static' ? compileStaticJoin(from.join, builder) : undefined;
  const streamJoin =
    from.join?.kind === 'stream'
      ? compileStreamJoin({ name: sourceName, alias: from.alias, source }, from.join, builder)
      : undefined;

  const where = select.where
    ? builder.build(select.where, 'where', nodeOffset(select.where) ?? 0)
    : undefined;
  if (where && where.type !== 'boolean' && where.type !== 'null')
    builder.error(builder.offsetOf(where, 0), `WHERE needs a boolean condition, got ${where.type}`);

  let items = selectItems(select, builder, source, from.join);
  const aliases = new Map(
    items
      .filter((i) => collect(i.expr, (e) => e.kind === 'aggregate').length === 0)
      .map((i) => [i.name, i.expr]),
  );
  const grouping = analyzeGroupBy(select.groupby?.columns ?? [], builder, aliases, 0);
  const isAggregate =
    grouping.window !== undefined ||
    grouping.session !== undefined ||
    grouping.keys.length > 0 ||
    builder.aggregates.length > 0;
  const distinct = (select.distinct ?? '').toUpperCase() === 'DISTINCT';
  if (distinct && isAggregate)
    report.sql(
      keywordOffset(sql, 'DISTINCT') ?? 0,
      'SELECT DISTINCT cannot be combined with GROUP BY or aggregate functions',
    );
  if (spec.options.dedupe && (isAggregate || distinct))
    report.spec(
      ['options', 'dedupe'],
      'options.dedupe applies to queries without GROUP BY, aggregates or DISTINCT',
    );

  if (isAggregate)
    items = items.map((item) => ({
      ...item,
      expr: bindToGrouping(item.expr, grouping, builder, item.offset),
    }));
  checkWindowBounds(items, grouping, builder);
  if (builder.issues.length === 0) checkUniqueNames(items, builder); // failed items would all be named "NULL"
  for (const issue of builder.issues) report.sql(issue.offset, issue.message);

  const outputNames = items.map((i) => i.name);
  checkSinkKeys(spec, outputNames, report);
  if (spec.options.dedupe?.withinWatermark && !source.watermark)
    // As Spark's dropDuplicatesWithinWatermark: without a watermark no key could ever expire.
    report.spec(
      ['options', 'dedupe', 'withinWatermark'],
      `withinWatermark needs a watermark: add sources.${sourceName}.watermark (a key is remembered until the watermark passes its first row's event time + the delay)`,
    );
  const dedupeKeys = distinct
    ? items.map(({ name, expr }) => ({ name, expr }))
    : dedupeOptionKeys(spec, builder, report);

  if (from.join?.kind === 'stream') {
    // Spark runs stateful operators after a stream–stream join only with care (multiple
    // watermarks, append mode); this engine does not yet.
    if (isAggregate || dedupeKeys)
      report.sql(
        from.join.offset,
        'aggregation and deduplication after a stream–stream join are not supported yet: write the joined rows to a sink and aggregate them in a second query',
      );
    if (spec.outputMode !== 'append')
      report.spec(
        ['outputMode'],
        `a stream–stream join emits each joined row once: outputMode must be append (got ${spec.outputMode}), as in Spark`,
      );
  }
  const kind = isAggregate ? 'aggregate' : dedupeKeys ? 'dedupe' : 'stateless';
  const stateful = compileStatefulFunction(
    spec,
    sourceName,
    source,
    items.map((i) => ({ name: i.name, type: outputType(i.expr.type) })),
    kind !== 'stateless' || distinct,
    report.spec,
  );
  const eventTimeKey = grouping.keys.find(
    (k) => k.expr.kind === 'column' && k.expr.name === source.watermark?.column,
  )?.name;
  const verdict = checkOutputMode({
    kind,
    outputMode: spec.outputMode,
    source: sourceName,
    watermark: source.watermark,
    window: grouping.window,
    session: grouping.session,
    eventTimeKey,
  });
  if (verdict.error && from.join?.kind !== 'stream') report.spec(['outputMode'], verdict.error);
  // As Spark's FileStreamSink: files are only ever added, so a row can never be updated in place.
  else if ('file' in spec.sink && spec.outputMode !== 'append')
    report.spec(
      ['outputMode'],
      `the file sink supports only outputMode append (got ${spec.outputMode}): a written file is never rewritten`,
    );
  const joinedSource = from.join?.kind === 'stream' ? from.join.name : undefined;
  const unused = Object.keys(spec.sources).filter((name) => name !== sourceName && name !== joinedSource);
  const warnings = [
    ...verdict.warnings,
    ...unused.map((name) => `source "${name}" is declared but the SQL does not read it`),
  ];
  if (failed) return undefined;

  const plan = buildPlan({
    sourceName,
    source,
    outputMode: spec.outputMode,
    numShufflePartitions: spec.options.numShufflePartitions,
    ...(where ? { where } : {}),
    ...(join ? { join } : {}),
    ...(streamJoin && from.join?.kind === 'stream'
      ? { streamJoin: { operator: streamJoin, rightSource: from.join.source } }
      : {}),
    columns: items.map(({ name, expr }) => ({ name, expr })),
    ...(isAggregate
      ? {
          aggregation: {
            grouping,
            aggregates: builder.aggregates,
            ...(eventTimeKey !== undefined ? { eventTimeKey } : {}),
          },
        }
      : {}),
    ...(stateful ? { stateful } : {}),
    ...(!isAggregate && dedupeKeys
      ? {
          dedupe: {
            keys: dedupeKeys,
            ...(spec.options.dedupe?.withinWatermark ? { withinWatermark: true } : {}),
          },
        }
      : {}),
  });
  return { plan, warnings };
}

function rejectUnsupportedClauses(select: SelectNode, sql: string, report: QueryIssues): void {
  const at = (keyword: string): number => keywordOffset(sql, keyword) ?? 0;
  if (select.with) report.sql(at('WITH'), 'WITH (common table expressions) is not supported');
  if (select._next)
    report.sql(at('UNION|INTERSECT|EXCEPT|MINUS'), 'UNION / INTERSECT / EXCEPT are not supported');
  if (select.having)
    report.sql(at('HAVING'), 'HAVING is not supported; filter rows with WHERE before aggregating');
  if (select.orderby) report.sql(at('ORDER'), 'ORDER BY is not supported in a streaming query');
  if (select.limit && (select.limit.value?.length ?? 0) > 0)
    report.sql(at('LIMIT'), 'LIMIT is not supported in a streaming query');
  if (select.window) report.sql(at('WINDOW'), 'named WINDOW clauses are not supported');
}

function resolveSource(
  select: SelectNode,
  spec: QuerySpec,
  report: QueryIssues,
): { name: string; alias: string | null; source: SourceSpec; join?: JoinSide } | undefined {
  const [first, ...others] = select.from ?? [];
  const declared = Object.keys(spec.sources);
  if (!first) {
    report.sql(0, `the query needs FROM <source> (sources: ${declared.join(', ')})`);
    return undefined;
  }
  const leftName = first.table
    ? Object.keys(spec.sources).find((n) => n.toLowerCase() === first.table!.toLowerCase())
    : undefined;
  const join = others.length > 0 ? resolveJoin(others, spec, report, leftName ?? '') : undefined;
  if (others.length > 0 && !join) return undefined;
  if (first.expr || !first.table) {
    report.sql(nodeOffset(first) ?? 0, 'subqueries are not supported: read a source by name');
    return undefined;
  }
  const offset = first.loc?.start.offset ?? 0;
  const table = first.table;
  const name =
    declared.find((n) => n === table) ?? declared.find((n) => n.toLowerCase() === table.toLowerCase());
  const source = name === undefined ? undefined : spec.sources[name];
  if (name === undefined || !source) {
    report.sql(offset, `unknown table "${table}" (sources: ${declared.join(', ')})`);
    return undefined;
  }
  if (first.db) report.sql(offset, `"${first.db}.${table}": sources are not qualified by a database`);
  return { name, alias: first.as ?? null, source, ...(join ? { join } : {}) };
}

function selectItems(
  select: SelectNode,
  builder: ExprBuilder,
  source: SourceSpec,
  join: JoinSide | undefined,
): SelectItem[] {
  const columnsOf = (schema: SourceSpec['schema'], prefix: string, offset: number): SelectItem[] =>
    Object.entries(schema).map(([name, type]) => ({
      name,
      expr: { kind: 'column', name: prefix + name, type },
      offset,
    }));
  const joinedPrefix = join ? `${join.name}.` : '';
  const star = (offset: number): SelectItem[] => [
    ...columnsOf(source.schema, '', offset),
    ...(join ? columnsOf(sideSchema(join), joinedPrefix, offset) : []),
  ];
  if (typeof select.columns === 'string') return star(0);
  return select.columns.flatMap((column): SelectItem[] => {
    const offset = nodeOffset(column.expr) ?? 0;
    if (column.expr.type === 'column_ref' && columnName(column.expr as ColumnRefNode) === '*') {
      const table = (column.expr as ColumnRefNode).table;
      const t = table?.toLowerCase();
      if (join && (t === join.name.toLowerCase() || t === join.alias?.toLowerCase()))
        return columnsOf(sideSchema(join), joinedPrefix, offset);
      if (table && !builder.matchesSource(table)) {
        builder.error(offset, `unknown table "${table}"`);
        return [];
      }
      return join && table ? columnsOf(source.schema, '', offset) : star(offset);
    }
    const expr = builder.build(column.expr, 'select', offset);
    const alias = typeof column.as === 'string' ? column.as : (column.as?.value ?? null);
    // A joined table's column is named as in its table (Spark: `t.name` → "name").
    const shown =
      join && expr.kind === 'column' && expr.name.startsWith(joinedPrefix)
        ? expr.name.slice(joinedPrefix.length)
        : displayExpr(expr, builder.aggregates);
    return [{ name: alias ?? shown, expr, offset }];
  });
}

function checkWindowBounds(items: readonly SelectItem[], grouping: Grouping, builder: ExprBuilder): void {
  for (const item of items) {
    for (const bound of collect(item.expr, (e) => e.kind === 'windowBound')) {
      const session = bound.kind === 'windowBound' && bound.session === true;
      if (session && !grouping.session)
        builder.error(
          builder.offsetOf(bound, item.offset),
          "session_window.start / session_window.end need GROUP BY session_window(<timestamp column>, '<gap>')",
        );
      else if (!session && !grouping.window)
        builder.error(
          builder.offsetOf(bound, item.offset),
          "window.start / window.end need GROUP BY window(<timestamp column>, '<size>')",
        );
    }
  }
}

function checkUniqueNames(items: readonly SelectItem[], builder: ExprBuilder): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.name))
      builder.error(item.offset, `duplicate output column "${item.name}"; give it a different alias`);
    seen.add(item.name);
  }
}

function checkSinkKeys(spec: QuerySpec, outputNames: readonly string[], report: QueryIssues): void {
  const [kind, keys] =
    'postgres' in spec.sink
      ? ['postgres', spec.sink.postgres.key]
      : 'kafka' in spec.sink
        ? ['kafka', spec.sink.kafka.key ?? []]
        : ['file' in spec.sink ? 'file' : 'console', []];
  keys.forEach((key, i) => {
    if (!outputNames.includes(key))
      report.spec(
        ['sink', kind, 'key', i],
        `key column "${key}" is not an output column of the query (${outputNames.join(', ')})`,
      );
  });
}

function dedupeOptionKeys(
  spec: QuerySpec,
  builder: ExprBuilder,
  report: QueryIssues,
): Array<{ name: string; expr: Expr }> | undefined {
  const columns = spec.options.dedupe?.columns;
  if (!columns) return undefined;
  return columns.flatMap((column, i) => {
    const name = builder.resolveColumn(column);
    const type = name === undefined ? undefined : builder.schemaType(name);
    if (name === undefined || type === undefined) {
      report.spec(['options', 'dedupe', 'columns', i], `unknown column "${column}" in the query's source`);
      return [];
    }
    return [{ name, expr: { kind: 'column', name, type } satisfies Expr }];
  });
}
