// GROUP BY session_window(<timestamp column>, '<gap>'): Spark's gap-based session windows
// (SessionWindow / session_window in functions). A row at time t opens the session [t, t + gap);
// sessions of the same key that overlap merge (runtime/sessions.ts). Only a constant gap is
// supported: Spark also takes a per-row gap expression, which this compiler refuses.
import type { ExprBuilder } from '../sql/expr-builder';
import type { FunctionNode } from '../sql/sql-ast';
import { windowDuration } from './grouping';
import type { SessionWindowSpec } from './logical-plan';

export function analyzeSessionWindow(
  node: FunctionNode,
  builder: ExprBuilder,
  offset: number,
): SessionWindowSpec | undefined {
  const [columnNode, gapNode, ...rest] = node.args?.value ?? [];
  if (!columnNode || !gapNode || rest.length > 0) {
    builder.error(
      offset,
      "session_window() takes a timestamp column and a gap duration, e.g. session_window(ts, '5 minutes')",
    );
    return undefined;
  }
  const column = builder.build(columnNode, 'group by', offset);
  if (column.kind !== 'column' || column.type !== 'timestamp') {
    const at = builder.offsetOf(column, offset);
    if (column.kind === 'column')
      builder.error(at, `session_window() needs a timestamp column, "${column.name}" is ${column.type}`);
    else if (column.type !== 'null') builder.error(at, 'session_window() needs a timestamp column');
    return undefined;
  }
  if (!gapNode.type.endsWith('string')) {
    builder.error(
      gapNode.loc?.start.offset ?? offset,
      "session_window() gap must be a constant duration string such as '5 minutes' (per-row gap expressions are not supported)",
    );
    return undefined;
  }
  const gapMs = windowDuration(gapNode, builder, offset, 'session_window gap');
  return gapMs === undefined ? undefined : { column: column.name, gapMs };
}
