import { redirect } from 'next/navigation';
import { requireSession, roleAtLeast } from '@/lib/session';
import { Tokens } from './tokens';

export const metadata = { title: 'Tokens · Sluice' };
export const dynamic = 'force-dynamic';

export default async function TokensPage() {
  const session = await requireSession();
  if (!roleAtLeast(session.role, 'admin')) redirect('/queries');
  return (
    <>
      <h1>API tokens</h1>
      <Tokens />
    </>
  );
}
