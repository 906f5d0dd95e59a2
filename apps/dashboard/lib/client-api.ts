// Browser side of the dashboard's API: every call goes to the dashboard's own route handlers
// (same origin, session cookie attached by the browser); mutations carry the CSRF header.
export interface SpecError {
  path: string;
  line: number;
  column: number;
  message: string;
}

export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | null,
    message: string,
    readonly errors: SpecError[] = [],
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

export async function api<T>(
  url: string,
  init: { method?: string; json?: unknown; text?: string; contentType?: string } = {},
): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Sluice-CSRF'] = '1';
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.text !== undefined) {
    headers['Content-Type'] = init.contentType ?? 'application/yaml';
    body = init.text;
  }
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const b = (parsed ?? {}) as { code?: string; message?: string | string[]; errors?: SpecError[] };
    if (res.status === 401 && typeof window !== 'undefined' && !url.startsWith('/api/session'))
      window.location.assign('/login');
    const message = Array.isArray(b.message) ? b.message.join('; ') : (b.message ?? `HTTP ${res.status}`);
    throw new ApiCallError(
      res.status,
      b.code ?? null,
      message,
      Array.isArray(b.errors) ? b.errors : [],
      parsed,
    );
  }
  return parsed as T;
}

/** SWR's fetcher: GET through the proxy. */
export const fetcher = <T>(url: string): Promise<T> => api<T>(url);
