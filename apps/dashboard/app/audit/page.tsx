import { redirect } from 'next/navigation';
import { requireSession, roleAtLeast } from '@/lib/session';
import { AuditLog } from './audit-log';

export const metadata = { title: 'Audit log · Sluice' };
export const dynamic = 'force-dynamic';

export default async function AuditPage() {
  const session = await requireSession();
  if (!roleAtLeast(session.role, 'admin')) redirect('/queries');
  return (
    <>
      <h1>Audit log</h1>
      <AuditLog />
    </>
  );
}
