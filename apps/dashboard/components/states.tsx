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
