// The slice of node-sql-parser's AST (mysql dialect) the compiler reads. The library's own typings
// are loose (`any` in many places), so nodes are narrowed here by their `type` tag.

export interface SqlLoc {
  start: { offset: number };
  end: { offset: number };
}

export interface SqlNode {
  type: string;
  loc?: SqlLoc;
}

export interface ColumnRefNode extends SqlNode {
  type: 'column_ref';
  table: string | null;
  column: string | { expr: { value: string } };
}

export interface AggrFuncNode extends SqlNode {
  type: 'aggr_func';
  name: string;
  args: { expr: SqlNode; distinct?: string | null } | null;
  over?: unknown;
}

export interface FunctionNode extends SqlNode {
  type: 'function';
  name: { name: Array<{ value: string }> };
  args?: { value: SqlNode[] } | null;
  over?: unknown;
}

export interface BinaryNode extends SqlNode {
  type: 'binary_expr';
  operator: string;
  left: SqlNode;
  right: SqlNode;
}

export interface UnaryNode extends SqlNode {
  type: 'unary_expr';
  operator: string;
  expr: SqlNode;
}

export interface CastNode extends SqlNode {
  type: 'cast';
  expr: SqlNode;
  target: Array<{ dataType: string }>;
}

export interface ExprListNode extends SqlNode {
  type: 'expr_list';
  value: SqlNode[];
}

export interface ValueNode extends SqlNode {
  value: unknown;
}

export interface SelectColumn {
  expr: SqlNode;
  as: string | { value: string } | null;
}

export interface FromItem {
  table?: string;
  as?: string | null;
  db?: string | null;
  join?: string;
  on?: SqlNode | null;
  expr?: unknown;
  loc?: SqlLoc;
}

export interface SelectNode extends SqlNode {
  type: 'select';
  distinct: string | null;
  columns: SelectColumn[] | string;
  from: FromItem[] | null;
  where: SqlNode | null;
  groupby: { columns: SqlNode[] | null } | null;
  having: unknown;
  orderby: unknown;
  limit: { value?: unknown[] } | null;
  with: unknown;
  window?: unknown;
  _next?: unknown;
}

export function columnName(node: ColumnRefNode): string {
  return typeof node.column === 'string' ? node.column : String(node.column.expr.value);
}

export function functionName(node: FunctionNode): string {
  return node.name.name.map((part) => part.value).join('.');
}

/** Start offset of `node`, or of the first located node inside it (CAST and literals carry no loc). */
export function nodeOffset(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const loc = (node as { loc?: SqlLoc }).loc;
  if (loc) return loc.start.offset;
  for (const value of Object.values(node)) {
    const found = nodeOffset(value);
    if (found !== undefined) return found;
  }
  return undefined;
}
