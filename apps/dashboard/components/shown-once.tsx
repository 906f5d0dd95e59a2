// A secret the API returns once (a new token, a receiver's signing key): shown here, never again.
export function ShownOnce({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="panel" role="status">
      {label}: <code data-testid={testId}>{value}</code>
    </div>
  );
}
