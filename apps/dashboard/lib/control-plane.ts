// Server-side access to the control plane's API. The browser never talks to the control plane:
// every call goes through the dashboard's route handlers, which add the session's bearer token.
import 'server-only';

export const API_TIMEOUT_MS = 10_000;

/** Base URL of the control plane (SLUICE_API_URL; the local default is `npm run control-plane`'s). */
export function controlPlaneUrl(): string {
  return (process.env.SLUICE_API_URL ?? 'http://127.0.0.1:4400').replace(/\/+$/, '');
}

export class ControlPlaneUnreachable extends Error {
  constructor(cause: unknown) {
    super(`control plane unreachable at ${controlPlaneUrl()}: ${(cause as Error).message ?? String(cause)}`);
    this.name = 'ControlPlaneUnreachable';
  }
}

export interface CpInit {
  method?: string;
  token?: string;
  body?: BodyInit | null;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number | null;
}

/** One request to the control plane; throws ControlPlaneUnreachable when it cannot connect. */
export async function cpFetch(pathAndQuery: string, init: CpInit = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.contentType) headers['Content-Type'] = init.contentType;
  const timeout = init.timeoutMs === null ? undefined : AbortSignal.timeout(init.timeoutMs ?? API_TIMEOUT_MS);
  const signal = init.signal && timeout ? AbortSignal.any([init.signal, timeout]) : (init.signal ?? timeout);
  try {
    return await fetch(`${controlPlaneUrl()}${pathAndQuery}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body ?? null,
      signal,
      cache: 'no-store',
      // Request bodies may be streams (spec uploads are passed through as they come).
      ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (e) {
    if ((e as Error).name === 'AbortError' && init.signal?.aborted) throw e;
    throw new ControlPlaneUnreachable(e);
  }
}

/** GET returning parsed JSON, or null on 404; other errors throw with the API's message. */
export async function cpJson<T>(pathAndQuery: string, token: string): Promise<T> {
  const res = await cpFetch(pathAndQuery, { token });
  if (!res.ok) throw new ApiError(res.status, await res.text());
  return (await res.json()) as T;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`control plane answered ${status}: ${body.slice(0, 300)}`);
    this.name = 'ApiError';
  }
}
