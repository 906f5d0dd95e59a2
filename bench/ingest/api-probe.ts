// API latency probe for bench:ingest, in its own process so the driver's producer work (JSON
// encoding, kafkajs) never delays the probe's clock. Open loop: requests (GET a query) start on a
// fixed schedule of RATE per second whatever the answers' speed, and each latency counts from the
// scheduled start, so a stalled server is charged for every request it delayed (no coordinated
// omission). Runs until stdin closes, then prints the sorted latencies (ms) as JSON on stdout.
// `tsx bench/ingest/api-probe.ts BASE TOKEN RATE ID[,ID...]`
const [base, token, rateArg, idList] = process.argv.slice(2);
const rate = Number(rateArg);
if (!base || !token || !idList || !(rate > 0)) {
  process.stderr.write('usage: api-probe BASE TOKEN RATE ID[,ID...]\n');
  process.exit(2);
}
const ids = idList.split(',');
const WARM_UP_MS = 2000;
let stopping = false;
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => (stopping = true));

async function request(i: number, scheduled: number, out: number[]): Promise<void> {
  const r = await fetch(`${base}/api/v1/queries/${ids[i % ids.length]}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`GET query → ${r.status}`);
  out.push(performance.now() - scheduled);
}

async function main(): Promise<void> {
  const out: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; !stopping; i++) {
    const scheduled = start + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // The first WARM_UP_MS are not recorded: the client's first concurrent requests (new
    // connections, cold code) stalled 100-300 ms on an idle server, once per probe run.
    const p = request(i, scheduled, scheduled - start < WARM_UP_MS ? [] : out);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => undefined);
  }
  await Promise.all(inFlight);
  process.stdout.write(`${JSON.stringify(out.sort((a, b) => a - b))}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`api-probe failed: ${e.message}\n`);
  process.exit(1);
});
