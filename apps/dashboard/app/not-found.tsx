import Link from 'next/link';

export default function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <div className="state">
        Nothing here. <Link href="/queries">All queries</Link>
      </div>
    </>
  );
}
