'use client';
// Any page that throws while rendering shows this instead of a blank page: typically an answer
// of the control plane this dashboard cannot read (another API version, a proxy's page). The
// header and the control-plane banner (the layout) stay; "Try again" renders the page anew.
// The JavaScript message ("Cannot read properties of undefined …") means nothing to a user: it is
// kept behind a disclosure, for a bug report, with the digest that finds it in the server's log.
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
        <strong>This page could not be shown.</strong> The dashboard could not read what the control plane
        answered: it may run another version of Sluice, or something between them answered instead. Try again,
        or go back to all queries; if it stays, the technical details below help a bug report.
      </p>
      <p>
        <button type="button" onClick={reset}>
          Try again
        </button>{' '}
        <Link href="/queries">All queries</Link>
      </p>
      <details data-testid="error-details">
        <summary>Technical details</summary>
        <pre>
          {error.name}: {error.message}
          {error.digest && `\nreference ${error.digest} (in the dashboard's log)`}
        </pre>
      </details>
    </div>
  );
}
