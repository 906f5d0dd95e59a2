'use client';
import { api } from '@/lib/client-api';

export function LogoutButton() {
  return (
    <button
      type="button"
      onClick={async () => {
        await api('/api/session', { method: 'DELETE' }).catch(() => undefined);
        window.location.assign('/login');
      }}
    >
      Log out
    </button>
  );
}
