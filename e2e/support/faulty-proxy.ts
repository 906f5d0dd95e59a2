// A loopback HTTP proxy in front of the real control plane that answers the requests a test picks
// itself (a 500, a body of the wrong shape) and passes every other one through, streams included.
// The real control plane never answers that way on purpose; this is how the dashboard's error
// states are reached with everything else real (login, session, the other requests of the page).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InjectedAnswer {
  status: number;
  body: unknown;
}

export interface FaultyProxy {
  base: string;
  /** Decides per request: an answer to send instead of the control plane's, or null to pass it on. */
  answer: (method: string, url: string) => InjectedAnswer | null;
  close(): Promise<void>;
}

export async function startFaultyProxy(target: string): Promise<FaultyProxy> {
  const upstream = new URL(target);
  const proxy: FaultyProxy = {
    base: '',
    answer: () => null,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const injected = proxy.answer(req.method ?? 'GET', req.url ?? '/');
    if (injected) {
      res
        .writeHead(injected.status, { 'Content-Type': 'application/json' })
        .end(JSON.stringify(injected.body));
      return;
    }
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
    res.on('close', () => out.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
