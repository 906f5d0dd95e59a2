import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="state">
      Nothing here. <Link href="/queries">All queries</Link>
    </div>
  );
}
