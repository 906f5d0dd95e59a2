// API latency probe for bench:ingest, in its own process so the driver's producer work (JSON
// encoding, kafkajs) never delays the probe's clock: 4 concurrent clients GET queries until
// stdin closes, then print the sorted latencies (ms) as JSON on stdout.
// `tsx bench/ingest/api-probe.ts BASE TOKEN ID[,ID...]`
const [base, token, idList] = process.argv.slice(2);
if (!base || !token || !idList) {
  process.stderr.write('usage: api-probe BASE TOKEN ID[,ID...]\n');
  process.exit(2);
}
const ids = idList.split(',');
let stopping = false;
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => (stopping = true));

async function client(w: number, out: number[]): Promise<void> {
  for (let i = w; !stopping; i += 4) {
    const t = performance.now();
    const r = await fetch(`${base}/api/v1/queries/${ids[i % ids.length]}`, { headers: { Authorization: `Bearer ${token}` } });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`GET query → ${r.status}`);
    out.push(performance.now() - t);
  }
}

async function main(): Promise<void> {
  const out: number[] = [];
  await Promise.all([0, 1, 2, 3].map((w) => client(w, out)));
  process.stdout.write(`${JSON.stringify(out.sort((a, b) => a - b))}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`api-probe failed: ${e.message}\n`);
  process.exit(1);
});
