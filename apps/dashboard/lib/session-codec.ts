// The session cookie's content and attributes (pure: no Next request context, unit-tested).
export const SESSION_COOKIE = 'sluice_session';
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** Browser sessions end after 12 hours; the token itself lives on until revoked. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60;
/** API tokens are short printable strings; anything longer is not one (bounds the cookie too). */
export const MAX_TOKEN_LENGTH = 512;

export interface Session {
  token: string;
  role: Role;
  name: string;
}

export function encodeSession(s: Session): string {
  return Buffer.from(JSON.stringify({ t: s.token, r: s.role, n: s.name }), 'utf8').toString('base64url');
}

export function decodeSession(raw: string | undefined): Session | null {
  if (!raw || raw.length > 4096) return null;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as {
      t?: unknown;
      r?: unknown;
      n?: unknown;
    };
    if (typeof v.t !== 'string' || typeof v.n !== 'string' || !ROLES.includes(v.r as Role)) return null;
    return { token: v.t, role: v.r as Role, name: v.n };
  } catch {
    return null;
  }
}

export function roleAtLeast(role: Role, need: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(need);
}

/** httpOnly and SameSite=Strict always; Secure when served over HTTPS. */
export function cookieOptions(secure: boolean, maxAge: number) {
  return { httpOnly: true, sameSite: 'strict' as const, secure, path: '/', maxAge };
}

/**
 * The role of a token, from the control plane's answer to GET /api/v1/tokens (admin only): 200 is
 * an admin; a 403 names the token and its role (`token "x" has viewer`); 401 is no valid token.
 * The API has no "who am I" route, and this probe changes nothing.
 */
export function roleFromProbe(status: number, body: string): { role: Role; name: string } | null {
  if (status === 200) return { role: 'admin', name: 'admin token' };
  if (status !== 403) return null;
  let message = '';
  try {
    message = String((JSON.parse(body) as { message?: unknown }).message ?? '');
  } catch {
    return null;
  }
  const m = /token "([^"]{0,200})" has (viewer|operator|admin)/.exec(message);
  if (!m) return { role: 'viewer', name: 'token' };
  return { role: m[2] as Role, name: m[1] ?? 'token' };
}
