// `npm run stack:up | stack:down | stack:status`, optionally naming components:
// `npm run stack:down -- redis` stops only Redis (used by the outage tests); `npm run stack:up -- kube`
// starts the local Kubernetes API server, which a plain `stack:up` leaves out.
import { components, stackDown, stackUp } from './stack';
import { loadStackConfig } from './config';

const log = (msg: string) => process.stdout.write(`[stack] ${msg}\n`);

async function status(): Promise<number> {
  let allUp = true;
  for (const c of components(loadStackConfig())) {
    const s = await c.state();
    if (s !== 'up' && !c.optional) allUp = false;
    const label =
      (s === 'foreign' ? 'taken (not ours)' : s) + (c.optional && s === 'down' ? ' (optional)' : '');
    process.stdout.write(
      `${c.name.padEnd(11)} 127.0.0.1:${String(c.port).padEnd(6)} ${label.padEnd(17)} ${c.dataDir}\n`,
    );
  }
  return allUp ? 0 : 1;
}

async function main(): Promise<number> {
  const [cmd, ...only] = process.argv.slice(2);
  const t0 = Date.now();
  switch (cmd) {
    case 'up':
      await stackUp(log, loadStackConfig(), only);
      log(`stack is up (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return 0;
    case 'down':
      await stackDown(log, loadStackConfig(), only);
      log(`stack is down (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return 0;
    case 'status':
      return status();
    default:
      process.stderr.write(
        'usage: stack (up|down|status) [postgresql|redis|kafka|kube ...]  (kube only when named)\n',
      );
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`[stack] error: ${err.message}\n`);
    process.exit(1);
  },
);
