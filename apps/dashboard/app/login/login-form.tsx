'use client';
import { useState } from 'react';
import { api, ApiCallError } from '@/lib/client-api';

export function LoginForm() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        const token = String(new FormData(e.currentTarget).get('token') ?? '');
        setBusy(true);
        setError(null);
        try {
          await api('/api/session', { method: 'POST', json: { token } });
          window.location.assign('/queries');
        } catch (err) {
          setError(err instanceof ApiCallError ? err.message : 'login failed');
          setBusy(false);
        }
      }}
    >
      <label>
        API token
        <input name="token" type="password" autoComplete="off" required maxLength={512} />
      </label>
      {error && (
        <p role="alert" className="errors" style={{ color: 'var(--danger)' }}>
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Checking…' : 'Log in'}
      </button>
    </form>
  );
}
