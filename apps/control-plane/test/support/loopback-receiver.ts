// What the alerting tests share about receivers: a real HTTP receiver on loopback, which can go
// down and come back on the same port (an outage the delivery worker must outlast), the check of
// a delivery's HMAC signature, and the control plane settings that let it deliver there.
import http from 'node:http';
import { verify } from '../../src/alerting/receivers/signature';

export interface Received<J = Record<string, unknown>> {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: J;
}

/** A webhook receiver on loopback that records every request and answers 200. */
export class LoopbackReceiver<J = Record<string, unknown>> {
  readonly received: Received<J>[] = [];
  private server: http.Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body, json: JSON.parse(body) as J });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    s?.closeAllConnections();
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  }
}

/** Whether `body` (by default the request's own) verifies against the request's signature headers. */
export function signedWith(secret: string, r: Received<unknown>, body = r.body): boolean {
  return verify(
    secret,
    {
      signature: r.headers['x-sluice-signature'] as string | undefined,
      timestamp: r.headers['x-sluice-timestamp'] as string | undefined,
    },
    body,
    Math.floor(Date.now() / 1000),
  );
}

/**
 * Alerting settings of a test control plane that delivers to loopback receivers: its own cluster
 * (another control plane on the same database leaves its rules alone), a signing key (the delivery
 * worker does not run without one), loopback allowed as a receiver host; then the test's own.
 */
export function alertingEnv(
  cluster: string,
  suffix: string,
  own: Record<string, string>,
): Record<string, string> {
  return {
    SLUICE_CLUSTER_NAME: cluster,
    SLUICE_ALERT_SIGNING_KEY: `it-signing-key-${suffix}-0123456789abcdef`,
    SLUICE_ALERT_RECEIVER_HOSTS: '127.0.0.1',
    ...own,
  };
}
