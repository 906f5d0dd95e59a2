// What stands outside the control plane in bench:alerts: the webhook receiver and the API prober,
// run in a child process of the bench (forked by cli.ts). In a deployment the receiver is another
// service and API clients are elsewhere; run inside the bench's process, their CPU (parsing each
// webhook body, undici's client side of every probe) was charged to the control plane's event loop,
// the very loop whose latency the bench measures (BENCHMARKS.md, "Alert evaluation", 2026-12-03
// 15:59).
//
// Times cross the process boundary as epoch milliseconds (`performance.timeOrigin +
// performance.now()`, or Date.now() where ms is enough): one clock, the system's, for the spikes'
// starts, the webhooks' arrivals and the probes' and evaluations' windows.
//
// Protocol (IPC): the child sends `receiver` (its port) once listening; the parent sends `probe`
// (API base and token) to start probing, then `stop`; the child answers `result` and exits.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Received {
  /** Epoch ms the webhook's body was read. */
  atMs: number;
  query: string;
  status: string;
}

export interface Probe {
  /** Epoch ms (sub-ms resolution) the request started and its response was read. */
  startMs: number;
  endMs: number;
}

export type ToChild = { type: 'probe'; base: string; token: string } | { type: 'stop' };
export type FromChild =
  | { type: 'receiver'; port: number }
  | { type: 'result'; probes: Probe[]; received: Received[]; probeErrors: number; receiverErrors: number };

/** Epoch ms with sub-ms resolution: the same clock in every process of the bench. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** Probe interval: one GET every 25 ms (after the previous answer). */
const PROBE_GAP_MS = 25;

function send(m: FromChild): void {
  process.send?.(m);
}

async function child(): Promise<void> {
  const received: Received[] = [];
  let receiverErrors = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      try {
        const j = JSON.parse(body) as { status: string; groupLabels: { query: string } };
        received.push({ atMs: Date.now(), query: j.groupLabels.query, status: j.status });
        res.writeHead(200).end();
      } catch {
        // A body that is not a webhook payload: answered 400 and counted, never a crash.
        receiverErrors++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  send({ type: 'receiver', port: (server.address() as { port: number }).port });

  // The bench's process gone (it failed or was stopped): nothing left to report to.
  process.on('disconnect', () => process.exit(0));
  const probes: Probe[] = [];
  let probeErrors = 0;
  let probing = false;
  let prober: Promise<void> = Promise.resolve();
  process.on('message', (m: ToChild) => {
    if (m.type === 'probe') {
      probing = true;
      prober = (async () => {
        while (probing) {
          const startMs = epochMs();
          try {
            const res = await fetch(`${m.base}/api/v1/alerts?state=firing&limit=50`, {
              headers: { Authorization: `Bearer ${m.token}` },
            });
            // The body read as a client would (as the in-process prober did: JSON, errors counted).
            if (res.status >= 300) {
              await res.arrayBuffer();
              probeErrors++;
            } else {
              await res.json();
              probes.push({ startMs, endMs: epochMs() });
            }
          } catch {
            probeErrors++;
          }
          await new Promise((r) => setTimeout(r, PROBE_GAP_MS));
        }
      })();
    } else if (m.type === 'stop') {
      probing = false;
      void prober.then(() => {
        server.close();
        send({ type: 'result', probes, received, probeErrors, receiverErrors });
      });
    }
  });
}

if (require.main === module) {
  child().catch((e: Error) => {
    console.error(e);
    process.exit(1);
  });
}
