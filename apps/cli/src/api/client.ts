// A thin client of the control plane's REST API (/api/v1, Bearer token). Every method returns the
// parsed JSON body; any non-2xx answer becomes an ApiRequestError with the exit code it maps to.
import { CliError } from '../exit-codes';
import { apiRequestError, type ApiErrorBody } from './api-error';
import type { Target } from '../config/resolve-context';

/** One request may take this long; the operations they start are followed separately. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * A GET answered 503 (a server the control plane depends on is restarting or overloaded) is asked
 * again this many times, after the answer's Retry-After (at most MAX_RETRY_WAIT_S). A GET changes
 * nothing; other methods are never repeated, since their first attempt may have acted.
 */
const GET_RETRIES = 3;
const MAX_RETRY_WAIT_S = 10;

export interface RequestOptions {
  /** JSON body (an object), or spec text sent as YAML. */
  body?: unknown;
  yaml?: string;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

export class ApiClient {
  constructor(
    readonly target: Target,
    /** Told about each retry (the CLI prints it as a warning). */
    private readonly onRetry: (message: string) => void = () => undefined,
  ) {}

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
    for (let attempt = 1; ; attempt++) {
      const signal = opts.signal
        ? AbortSignal.any([opts.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
        : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
      const res = await this.send(method, this.url(path, opts.query), headers, body, signal);
      const text = await res.text();
      if (res.status === 503 && method === 'GET' && attempt <= GET_RETRIES) {
        const wait = Math.min(Math.max(Number(res.headers.get('retry-after')) || 1, 1), MAX_RETRY_WAIT_S);
        this.onRetry(`the control plane is unavailable (${method} ${path}); asking again in ${wait} s`);
        await sleep(wait * 1000, opts.signal);
        opts.signal?.throwIfAborted();
        continue;
      }
      if (!res.ok) throw apiRequestError(res.status, parseBody(text), `${method} ${path}`);
      return (text ? JSON.parse(text) : null) as T;
    }
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
