// CSRF defence for every state-changing request to the dashboard (login, logout, API mutations):
// 1. the session cookie is SameSite=Strict, so a cross-site request carries no session at all;
// 2. the Origin header (sent by browsers on every POST/DELETE) must be this dashboard's origin
//    (Sec-Fetch-Site, when present, must be same-origin);
// 3. the request must carry `X-Sluice-CSRF: 1`, a header an HTML form cannot set and a cross-origin
//    script cannot send without a CORS preflight, which the dashboard never grants.

export const CSRF_HEADER = 'x-sluice-csrf';

/** Null when the request may change state; otherwise why not. */
export function csrfRejection(req: Request): string | null {
  const h = req.headers;
  if (h.get(CSRF_HEADER) !== '1') return `missing ${CSRF_HEADER} header`;
  const site = h.get('sec-fetch-site');
  if (site && site !== 'same-origin') return `cross-site request (Sec-Fetch-Site: ${site})`;
  const origin = h.get('origin');
  if (!origin) return 'missing Origin header';
  const host = h.get('x-forwarded-host') ?? h.get('host');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return 'malformed Origin header';
  }
  if (!host || originHost !== host) return `Origin ${origin} is not this dashboard`;
  return null;
}

export function forbidden(reason: string): Response {
  return Response.json({ code: 'CSRF_REJECTED', message: reason }, { status: 403 });
}
