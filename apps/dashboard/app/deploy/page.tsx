import { redirect } from 'next/navigation';
import { requireSession, roleAtLeast } from '@/lib/session';
import { DeployForm } from './deploy-form';

export const metadata = { title: 'Deploy · Sluice' };
export const dynamic = 'force-dynamic';

export default async function DeployPage({ searchParams }: { searchParams: Promise<{ query?: string }> }) {
  const session = await requireSession();
  // Viewers cannot deploy: the page is not offered (the API would refuse with 403 anyway).
  if (!roleAtLeast(session.role, 'operator')) redirect('/queries');
  const { query } = await searchParams;
  const id = query && /^[0-9a-f-]{36}$/i.test(query) ? query : null;
  return (
    <>
      <h1>{id ? 'New version' : 'Deploy a query'}</h1>
      <DeployForm queryId={id} />
    </>
  );
}
