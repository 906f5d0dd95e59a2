import { requireSession } from '@/lib/session';
import { AlertsView } from './alerts-view';

export const metadata = { title: 'Alerts · Sluice' };
export const dynamic = 'force-dynamic';

export default async function AlertsPage() {
  const session = await requireSession();
  return (
    <>
      <h1>Alerts</h1>
      <AlertsView role={session.role} />
    </>
  );
}
