// The dashboard's only way to the control plane's API: /api/cp/<path> → /api/v1/<path> with the
// session's bearer token. Mutations pass the CSRF check first; paths are limited to the resources
// the dashboard shows; event streams (text/event-stream) are passed through as they arrive.
import { ControlPlaneUnreachable, cpFetch } from '@/lib/control-plane';
import { csrfRejection, forbidden } from '@/lib/csrf';
import { currentSession } from '@/lib/session';

export const dynamic = 'force-dynamic';

const RESOURCES = new Set([
  'queries',
  'operations',
  'audit',
  'tokens',
  'alerts',
  'alert-rules',
  'silences',
  'receivers',
]);
const SEGMENT = /^[A-Za-z0-9._~-]{1,200}$/;
/** Spec uploads are bounded by the API too (413); the dashboard does not forward more than this. */
const MAX_BODY_BYTES = 1024 * 1024;

type Ctx = { params: Promise<{ path: string[] }> };

async function proxy(req: Request, ctx: Ctx): Promise<Response> {
  const { path } = await ctx.params;
  if (!RESOURCES.has(path[0] ?? '') || path.length > 8 || !path.every((s) => SEGMENT.test(s)))
    return Response.json({ code: 'NOT_FOUND', message: 'no such resource' }, { status: 404 });
  const session = await currentSession();
  if (!session) return Response.json({ code: 'UNAUTHENTICATED', message: 'log in first' }, { status: 401 });
  const mutation = req.method !== 'GET';
  if (mutation) {
    const rejected = csrfRejection(req);
    if (rejected) return forbidden(rejected);
  }
  let body: string | null = null;
  if (mutation) {
    body = await req.text();
    if (Buffer.byteLength(body) > MAX_BODY_BYTES)
      return Response.json(
        { code: 'PAYLOAD_TOO_LARGE', message: 'request body over 1 MiB' },
        { status: 413 },
      );
  }
  const search = new URL(req.url).search;
  const streaming = req.headers.get('accept') === 'text/event-stream';
  let upstream: Response;
  try {
    upstream = await cpFetch(`/api/v1/${path.join('/')}${search}`, {
      method: req.method,
      token: session.token,
      body: body === null || body === '' ? null : body,
      contentType: body ? (req.headers.get('content-type') ?? 'application/json') : undefined,
      signal: req.signal,
      timeoutMs: streaming ? null : undefined,
    });
  } catch (e) {
    if (e instanceof ControlPlaneUnreachable)
      return Response.json({ code: 'CONTROL_PLANE_UNREACHABLE', message: e.message }, { status: 502 });
    throw e;
  }
  const headers = new Headers({ 'Cache-Control': 'no-store' });
  const type = upstream.headers.get('content-type');
  if (type) headers.set('Content-Type', type);
  if (type?.startsWith('text/event-stream')) headers.set('X-Accel-Buffering', 'no');
  return new Response(upstream.body, { status: upstream.status, headers });
}

export const GET = proxy;
export const POST = proxy;
export const DELETE = proxy;
export const PUT = proxy;
export const PATCH = proxy;
