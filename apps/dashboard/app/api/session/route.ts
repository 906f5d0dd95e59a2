// Log in (POST {token}) and log out (DELETE). The token is checked against the control plane, then
// kept only in the httpOnly session cookie: the browser's JavaScript never sees it again.
import { NextResponse } from 'next/server';
import { ControlPlaneUnreachable, cpFetch } from '@/lib/control-plane';
import { csrfRejection, forbidden } from '@/lib/csrf';
import {
  cookieOptions,
  encodeSession,
  MAX_TOKEN_LENGTH,
  roleFromProbe,
  SESSION_COOKIE,
  SESSION_MAX_AGE_S,
} from '@/lib/session-codec';

const secure = (req: Request) =>
  new URL(req.url).protocol === 'https:' || req.headers.get('x-forwarded-proto') === 'https';

export async function POST(req: Request): Promise<Response> {
  const rejected = csrfRejection(req);
  if (rejected) return forbidden(rejected);
  const text = await req.text();
  if (text.length > 4096) return NextResponse.json({ message: 'request too large' }, { status: 413 });
  let token: unknown;
  try {
    token = (JSON.parse(text) as { token?: unknown }).token;
  } catch {
    return NextResponse.json({ message: 'send {"token": "..."}' }, { status: 400 });
  }
  if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token.trim()) || token.length > MAX_TOKEN_LENGTH)
    return NextResponse.json({ message: 'enter an API token' }, { status: 400 });
  let probe: Response;
  try {
    probe = await cpFetch('/api/v1/tokens', { token: token.trim() });
  } catch (e) {
    if (e instanceof ControlPlaneUnreachable)
      return NextResponse.json(
        { code: 'CONTROL_PLANE_UNREACHABLE', message: 'The control plane is not reachable; try again.' },
        { status: 502 },
      );
    throw e;
  }
  const who = roleFromProbe(probe.status, await probe.text());
  if (!who) return NextResponse.json({ message: 'unknown or revoked token' }, { status: 401 });
  const res = NextResponse.json({ role: who.role, name: who.name });
  res.cookies.set(
    SESSION_COOKIE,
    encodeSession({ token: token.trim(), ...who }),
    cookieOptions(secure(req), SESSION_MAX_AGE_S),
  );
  return res;
}

export function DELETE(req: Request): Response {
  const rejected = csrfRejection(req);
  if (rejected) return forbidden(rejected);
  const res = new NextResponse(null, { status: 204 });
  res.cookies.set(SESSION_COOKIE, '', cookieOptions(secure(req), 0));
  return res;
}
