// Empty, loading and error states, the same on every page.
import { ApiCallError } from '@/lib/client-api';

export function Loading({ what }: { what: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      Loading {what}…
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="state">{children}</div>;
}

export function ErrorState({ error, what }: { error: unknown; what: string }) {
  const e = error as Error;
  const detail =
    e instanceof ApiCallError && e.code === 'CONTROL_PLANE_UNREACHABLE'
      ? 'the control plane is not reachable'
      : e instanceof ApiCallError && e.status === 403
        ? 'your token’s role may not see this'
        : e.message;
  return (
    <div className="state error" role="alert">
      Could not load {what}: {detail}
    </div>
  );
}

/**
 * What one SWR read shows, the same on every page: its error, "Loading…", `empty` when the data is
 * an empty list (if given), else `children` with the data.
 */
export function Loaded<T>({
  result,
  what,
  empty,
  children,
}: {
  result: { data?: T; error?: unknown };
  what: string;
  empty?: React.ReactNode;
  children: (data: T) => React.ReactNode;
}) {
  if (result.error) return <ErrorState error={result.error} what={what} />;
  if (result.data === undefined) return <Loading what={what} />;
  if (empty !== undefined && Array.isArray(result.data) && result.data.length === 0)
    return <Empty>{empty}</Empty>;
  return <>{children(result.data)}</>;
}
