// One table markup for the lists of every page (alerts, silences, deliveries, tokens): column
// headers with scope, numeric columns right-aligned, an unlabelled actions column named for screen
// readers, and data-* attributes per row for the tests.
import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  numeric?: boolean;
  /** The header is read by screen readers only (an actions column). */
  hiddenHeader?: boolean;
  /** A test id on this column's cells. */
  testId?: string;
}

export function DataTable<T>(props: {
  rows: readonly T[];
  columns: readonly (Column<T> | false | null | undefined)[];
  rowKey: (row: T) => string;
  rowAttributes?: (row: T) => Record<`data-${string}`, string>;
  testId?: string;
}) {
  const columns = props.columns.filter((c): c is Column<T> => !!c);
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c.header} scope="col" className={c.numeric ? 'num' : undefined}>
              {c.hiddenHeader ? <span className="sr-only">{c.header}</span> : c.header}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={props.rowKey(row)} {...props.rowAttributes?.(row)}>
            {columns.map((c) => (
              <td key={c.header} className={c.numeric ? 'num' : undefined} data-testid={c.testId}>
                {c.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
