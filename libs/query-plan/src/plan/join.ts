// FROM <stream> JOIN <table> ON …: resolves a join's sides and compiles its ON condition into a
// StaticJoinOperator. Spark's rules for a stream–static join (UnsupportedOperationChecker): the
// stream may be inner- or left-outer-joined with a static table; a right or full outer join
// would need the whole stream to know which table rows never matched, so it is refused.
import type { ColumnType, QuerySpec, SourceSpec, TableSpec } from '../types';
import type { ExprBuilder, SourceScope } from '../sql/expr-builder';
import { nodeOffset, type BinaryNode, type FromItem, type SqlNode } from '../sql/sql-ast';
import type { Expr } from './expr';
import { comparable } from './expr-types';
import { collect } from './expr-walk';
import { withHash } from './hash';
import { joinedColumn, type JoinType, type StaticJoinOperator } from './join-operators';

export interface JoinIssues {
  sql(offset: number, message: string): void;
}

/** The static side of a join, as found in FROM (before its ON condition is compiled). */
export interface StaticJoinSide {
  kind: 'static';
  name: string;
  alias: string | null;
  table: TableSpec;
  joinType: JoinType;
  on: SqlNode;
  offset: number;
}

/** The right side of a stream–stream join (plan/stream-join.ts compiles its ON). */
export interface StreamJoinSide {
  kind: 'stream';
  name: string;
  alias: string | null;
  source: SourceSpec;
  joinType: JoinType;
  /** The join as written (for messages), e.g. "LEFT JOIN". */
  written: string;
  on: SqlNode;
  offset: number;
}

export type JoinSide = StaticJoinSide | StreamJoinSide;

const JOIN_TYPES: Record<string, JoinType> = {
  JOIN: 'inner',
  'INNER JOIN': 'inner',
  'LEFT JOIN': 'leftOuter',
  'LEFT OUTER JOIN': 'leftOuter',
};

/** The joined side of `FROM first JOIN second ON …`, or undefined (reported) if it cannot be one. */
export function resolveJoin(
  items: readonly FromItem[],
  spec: QuerySpec,
  report: JoinIssues,
  leftSource: string,
): JoinSide | undefined {
  const [second, third] = items;
  if (!second) return undefined;
  const offset = second.loc?.start.offset ?? 0;
  if (third) {
    report.sql(third.loc?.start.offset ?? 0, 'a query joins at most two inputs (one JOIN)');
    return undefined;
  }
  const tables = spec.tables ?? {};
  const declared = Object.keys(tables);
  if (second.expr || !second.table) {
    report.sql(offset, 'subqueries are not supported: join a table declared under `tables`');
    return undefined;
  }
  const wanted = second.table;
  const name =
    declared.find((n) => n === wanted) ?? declared.find((n) => n.toLowerCase() === wanted.toLowerCase());
  const table = name === undefined ? undefined : tables[name];
  const kind = (second.join ?? '').toUpperCase().replace(/\s+/g, ' ');
  const sourceName = Object.keys(spec.sources).find((n) => n.toLowerCase() === wanted.toLowerCase());
  const source = sourceName === undefined ? undefined : spec.sources[sourceName];
  if ((name === undefined || !table) && sourceName !== undefined && source) {
    if (sourceName === leftSource) {
      report.sql(
        offset,
        `"${sourceName}" is joined with itself: a stream–stream join reads two different sources`,
      );
      return undefined;
    }
    const joinType = JOIN_TYPES[kind];
    if (!joinType) {
      report.sql(
        offset,
        kind === ''
          ? 'comma joins (FROM a, b) are not supported: write FROM a JOIN b ON …'
          : `${kind} is not supported in a stream–stream join: use JOIN (inner) or LEFT OUTER JOIN`,
      );
      return undefined;
    }
    if (!second.on) {
      report.sql(offset, `${kind} needs an ON condition with the join key and a time range`);
      return undefined;
    }
    return {
      kind: 'stream',
      name: sourceName,
      alias: second.as ?? null,
      source,
      joinType,
      written: kind,
      on: second.on,
      offset,
    };
  }
  if (name === undefined || !table) {
    report.sql(
      offset,
      `unknown table "${wanted}" (tables: ${declared.length > 0 ? declared.join(', ') : 'none declared; add one under `tables`'}; sources: ${Object.keys(spec.sources).join(', ')})`,
    );
    return undefined;
  }
  const joinType = JOIN_TYPES[kind];
  if (!joinType) {
    report.sql(
      offset,
      kind === ''
        ? 'comma joins (FROM a, b) are not supported: write FROM <stream> JOIN <table> ON …'
        : `${kind} is not supported in a stream–static join: use JOIN (inner) or LEFT OUTER JOIN with the stream on the left (Spark refuses right and full outer joins of a stream with a static table)`,
    );
    return undefined;
  }
  if (!second.on) {
    report.sql(offset, `${kind} needs an ON condition relating the stream to "${name}"`);
    return undefined;
  }
  if (second.db) report.sql(offset, `"${second.db}.${wanted}": tables are named by their spec name`);
  return { kind: 'static', name, alias: second.as ?? null, table, joinType, on: second.on, offset };
}

/** The columns of a join's second input (a table's or a right source's). */
export function sideSchema(side: JoinSide): Record<string, ColumnType> {
  return side.kind === 'static' ? side.table.schema : side.source.schema;
}

/** The expression-builder scope of a join: the left side's columns plus the other's, prefixed. */
export function joinScope(stream: SourceScope, side: JoinSide): SourceScope {
  const schema = { ...stream.schema };
  for (const [column, type] of Object.entries(sideSchema(side)))
    schema[joinedColumn(side.name, column)] = type;
  return {
    ...stream,
    schema,
    joined: [{ name: side.name, alias: side.alias, prefix: joinedColumn(side.name, '') }],
  };
}

/**
 * Compiles ON into equi-join keys (stream expression = table column) and a residual condition.
 * Problems go to the builder's issues (with offsets) like any other expression's.
 */
export function compileStaticJoin(side: StaticJoinSide, builder: ExprBuilder): StaticJoinOperator {
  const prefix = joinedColumn(side.name, '');
  const isTableColumn = (e: Expr): boolean => e.kind === 'column' && e.name.startsWith(prefix);
  const readsTable = (e: Expr): boolean => collect(e, isTableColumn).length > 0;
  const readsStream = (e: Expr): boolean =>
    collect(e, (c) => c.kind === 'column' && !c.name.startsWith(prefix)).length > 0;
  const streamKeys: Expr[] = [];
  const tableKeys: string[] = [];
  const residual: Expr[] = [];
  for (const node of conjuncts(side.on)) {
    const offset = nodeOffset(node) ?? side.offset;
    if (node.type === 'binary_expr' && (node as BinaryNode).operator === '=') {
      const { left: l, right: r } = node as BinaryNode;
      const left = builder.build(l, 'on', offset);
      const right = builder.build(r, 'on', offset);
      const pair = isTableColumn(right) && !readsTable(left) ? [left, right] : [right, left];
      const [streamSide, tableSide] = pair as [Expr, Expr];
      if (isTableColumn(tableSide) && !readsTable(streamSide) && readsStream(streamSide)) {
        if (!comparable(streamSide.type, tableSide.type)) {
          builder.error(
            offset,
            `join key type mismatch: the stream side is ${streamSide.type}, "${side.alias ?? side.name}.${(tableSide as { name: string }).name.slice(prefix.length)}" is ${tableSide.type}; CAST one side`,
          );
          continue;
        }
        streamKeys.push(streamSide);
        tableKeys.push((tableSide as { name: string }).name.slice(prefix.length));
        continue;
      }
      if (comparable(left.type, right.type))
        residual.push({ kind: 'compare', op: '=', left, right, type: 'boolean' });
      else builder.error(offset, `cannot compare ${left.type} with ${right.type}; use CAST`);
      continue;
    }
    const condition = builder.build(node, 'on', offset);
    if (condition.type !== 'boolean' && condition.type !== 'null')
      builder.error(offset, `ON needs a boolean condition, got ${condition.type}`);
    else residual.push(condition);
  }
  if (streamKeys.length === 0 && builder.issues.length === 0)
    builder.error(
      nodeOffset(side.on) ?? side.offset,
      `ON needs an equality between a stream column and a column of "${side.alias ?? side.name}" (e.g. s.customer_id = ${side.alias ?? side.name}.id): the table is looked up by it`,
    );
  const op: Omit<StaticJoinOperator, 'hash'> = {
    id: 'join',
    op: 'staticJoin',
    joinType: side.joinType,
    table: side.name,
    streamKeys,
    tableKeys,
    schema: Object.entries(side.table.schema).map(([name, type]) => ({ name, type })),
  };
  const rest = residual.reduce<Expr | undefined>(
    (acc, e) => (acc ? { kind: 'logic', op: 'and', left: acc, right: e, type: 'boolean' } : e),
    undefined,
  );
  return withHash<StaticJoinOperator>(rest ? { ...op, residual: rest } : op);
}

/** The AND-ed parts of a condition, left to right. */
export function conjuncts(node: SqlNode): SqlNode[] {
  if (node.type === 'binary_expr' && ['AND', '&&'].includes((node as BinaryNode).operator.toUpperCase())) {
    const { left, right } = node as BinaryNode;
    return [...conjuncts(left), ...conjuncts(right)];
  }
  return [node];
}
