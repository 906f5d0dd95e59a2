'use client';
// A secret the API returns once (a new token, a receiver's signing key): shown here, never again.
import { useState, type ReactNode } from 'react';
import { ApiCallError } from '@/lib/client-api';

export function ShownOnce({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="panel" role="status">
      {label}: <code data-testid={testId}>{value}</code>
    </div>
  );
}

/**
 * A form that creates something whose secret the API answers once: its fields (children), the
 * submit button, the API's error beside it, and the secret below it until the next submit.
 * `create` calls the API and resolves to the secret; a thrown error is shown, never swallowed.
 */
export function ShownOnceForm(props: {
  ariaLabel?: string;
  submitLabel: string;
  secretLabel: string;
  secretTestId: string;
  create: () => Promise<string>;
  children: ReactNode;
}) {
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <form
        className="panel actions"
        aria-label={props.ariaLabel}
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          setSecret(null);
          try {
            setSecret(await props.create());
          } catch (err) {
            setError(err instanceof ApiCallError ? err.message : String(err));
          }
        }}
      >
        {props.children}
        <button type="submit" className="primary">
          {props.submitLabel}
        </button>
        {error && (
          <span role="alert" style={{ color: 'var(--danger)' }}>
            {error}
          </span>
        )}
      </form>
      {secret && <ShownOnce label={props.secretLabel} value={secret} testId={props.secretTestId} />}
    </>
  );
}
