'use client';
// Any page that throws while rendering shows this instead of a blank page: typically an answer
// of the control plane this dashboard cannot read (another API version, a proxy's page). The
// header and the control-plane banner (the layout) stay; "Try again" renders the page anew.
import Link from 'next/link';

export default function PageError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="state error" role="alert" data-testid="page-error">
      <p>
        This page failed: {error.message}
        {error.digest && <> (reference {error.digest}, in the dashboard&apos;s log)</>}
      </p>
      <p>
        <button type="button" onClick={reset}>
          Try again
        </button>{' '}
        <Link href="/queries">All queries</Link>
      </p>
    </div>
  );
}
