'use client';
import { api } from '@/lib/client-api';

export function LogoutButton() {
  return (
    <button
      type="button"
      onClick={async () => {
        // The user asked to leave: go to the login page either way. A DELETE that failed (server
        // away) leaves a session cookie that the next login replaces.
        await api('/api/session', { method: 'DELETE' }).catch(() => undefined);
        window.location.assign('/login');
      }}
    >
      Log out
    </button>
  );
}
