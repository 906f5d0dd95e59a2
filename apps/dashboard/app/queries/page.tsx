import { fleetFor } from '@/lib/fleet';
import { requireSession } from '@/lib/session';
import { QueriesTable } from './queries-table';

export const metadata = { title: 'Queries · Sluice' };
export const dynamic = 'force-dynamic';

export default async function QueriesPage() {
  const session = await requireSession();
  // The first rows are rendered on the server (fast first paint); the stream takes over after.
  const initial = await fleetFor(session.token)
    .snapshot()
    .catch(() => null);
  return (
    <>
      <h1>Queries</h1>
      <QueriesTable initial={initial} />
    </>
  );
}
