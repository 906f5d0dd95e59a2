// A thin client of the control plane's REST API (/api/v1, Bearer token). Every method returns the
// parsed JSON body; any non-2xx answer becomes an ApiRequestError with the exit code it maps to.
import { CliError } from '../exit-codes';
import { apiRequestError, type ApiErrorBody } from './api-error';
import type { Target } from '../config/resolve-context';

/** One request may take this long; the operations they start are followed separately. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface RequestOptions {
  /** JSON body (an object), or spec text sent as YAML. */
  body?: unknown;
  yaml?: string;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

export class ApiClient {
  constructor(readonly target: Target) {}

  get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('GET', path, opts);
  }
  post<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('POST', path, opts);
  }
  delete<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>('DELETE', path, opts);
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(`${this.target.url}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Opens a response without reading it (server-sent events); errors as for `request`. */
  async open(path: string, signal: AbortSignal): Promise<Response> {
    const res = await this.send('GET', this.url(path), { Accept: 'text/event-stream' }, undefined, signal);
    if (!res.ok) throw apiRequestError(res.status, await errorBody(res), `GET ${path}`);
    return res;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    let body: string | undefined;
    if (opts.yaml !== undefined) {
      headers['Content-Type'] = 'application/yaml';
      body = opts.yaml;
    } else if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const signal = opts.signal
      ? AbortSignal.any([opts.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
      : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const res = await this.send(method, this.url(path, opts.query), headers, body, signal);
    const text = await res.text();
    if (!res.ok) throw apiRequestError(res.status, parseBody(text), `${method} ${path}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  private async send(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    try {
      return await fetch(url, {
        method,
        headers: { ...headers, Authorization: `Bearer ${this.target.token}` },
        body,
        signal,
      });
    } catch (e) {
      if (signal.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError')
        throw new CliError(`${method} ${url}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
      if (signal.aborted) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the control plane at ${this.target.url} (${cause?.code ?? cause?.message ?? (e as Error).message}; from ${this.target.source}): is it running? Change it with \`sluice login --url URL\` or SLUICE_URL`,
      );
    }
  }
}

async function errorBody(res: Response): Promise<ApiErrorBody> {
  return parseBody(await res.text().catch(() => ''));
}

function parseBody(text: string): ApiErrorBody {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as ApiErrorBody) : { message: text };
  } catch {
    return { message: text.slice(0, 200) || undefined };
  }
}
