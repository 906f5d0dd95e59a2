import { fleetFor } from '@/lib/fleet';
import { sortRows } from '@/lib/fleet-row';
import { requireSession } from '@/lib/session';
import { QueriesTable } from './queries-table';

export const metadata = { title: 'Queries · Sluice' };
export const dynamic = 'force-dynamic';

/** Rows rendered on the server: more than a tall screen shows. */
const SERVER_ROWS = 60;

export default async function QueriesPage() {
  const session = await requireSession();
  // The first rows of the default order (by name) are rendered on the server: a screenful and more,
  // so the first paint is the table as it will look; the stream brings every row right after
  // hydration. Rendering all 500 rows (and sending them twice, as HTML and as the component's
  // props) made the HTML ~10 times larger and the first paint wait for it (BENCHMARKS.md).
  const snapshot = await fleetFor(session.token)
    .snapshot()
    .catch(() => null);
  const initial =
    snapshot?.kind === 'ok' && snapshot.rows.length > SERVER_ROWS
      ? {
          ...snapshot,
          rows: sortRows(snapshot.rows, 'name', 1).slice(0, SERVER_ROWS),
          total: snapshot.rows.length,
        }
      : snapshot;
  return (
    <>
      <h1>Queries</h1>
      <QueriesTable initial={initial} />
    </>
  );
}
