import { requireSession } from '@/lib/session';
import { QueryDetail } from './query-detail';

export const metadata = { title: 'Query · Sluice' };
export const dynamic = 'force-dynamic';

export default async function QueryPage({ params }: { params: Promise<{ id: string }> }) {
  const session = await requireSession();
  const { id } = await params;
  return <QueryDetail id={id} role={session.role} />;
}
