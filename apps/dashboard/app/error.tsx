'use client';
// Any page that throws while rendering shows this instead of a blank page.
export default function PageError({ error, reset }: { error: Error; reset: () => void }) {
  return (
    <div className="state error" role="alert">
      This page failed: {error.message}{' '}
      <button type="button" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
