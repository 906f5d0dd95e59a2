// The session: the user's API token in an httpOnly, SameSite=Strict cookie, so no script in the
// browser can read it, and no other site can make the browser send it. The role is kept beside
// it only to decide which controls to show; the API enforces roles on every call regardless.
import 'server-only';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';

import { decodeSession, SESSION_COOKIE, type Session } from './session-codec';

export { roleAtLeast, type Role, type Session } from './session-codec';

export async function currentSession(): Promise<Session | null> {
  return decodeSession((await cookies()).get(SESSION_COOKIE)?.value);
}

/** For pages: the session, or a redirect to the login page. */
export async function requireSession(): Promise<Session> {
  const s = await currentSession();
  if (!s) redirect('/login');
  return s;
}
