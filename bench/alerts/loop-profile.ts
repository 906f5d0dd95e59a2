// `npx tsx bench/alerts/loop-profile.ts <file.cpuprofile> [--skip-s 30] [--min-ms 15] [--window-ms 600]`
//
// Reads a CPU profile of the bench's process (`node --cpu-prof -r @swc-node/register
// bench/alerts/cli.ts …`: the bench runs the control plane's modules in its own process, so its
// main thread is the API's event loop) and says what held that loop:
//   - the longest stretches of samples with no idle sample between them (one stretch = the loop
//     was never free to take a request), with what they were made of;
//   - the main-thread CPU an evaluation adds: per category, the ms in the `--window-ms` after each
//     evaluation's start (the first two left out, as in the bench) against the same span between
//     evaluations.
// Categories are judged from each sample's stack (GC, Prisma, pg, the API's request path, …).
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'skip-s': { type: 'string', default: '30' },
    'min-ms': { type: 'string', default: '15' },
    'window-ms': { type: 'string', default: '600' },
  },
});
const file = positionals[0];
if (!file)
  throw new Error('usage: loop-profile.ts <file.cpuprofile> [--skip-s N] [--min-ms N] [--window-ms N]');
const skipUs = Number(values['skip-s']) * 1e6;
const minUs = Number(values['min-ms']) * 1000;
const windowUs = Number(values['window-ms']) * 1000;
if (![skipUs, minUs, windowUs].every((n) => Number.isFinite(n) && n >= 0))
  throw new Error('--skip-s, --min-ms and --window-ms must be numbers ≥ 0');

const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const stacks = new Map<number, CallFrame[]>();
/** The sample's frames, innermost first. */
function stackOf(id: number): CallFrame[] {
  let s = stacks.get(id);
  if (s) return s;
  s = [];
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) s.push(byId.get(x)!.callFrame);
  stacks.set(id, s);
  return s;
}

const RULES: Array<[string, RegExp]> = [
  ['bench client (prober, receiver)', /bench\/alerts\/cli/],
  ['bench synthetic lag', /bench\/alerts\/bench-app/],
  ['gauges', /gauge-sync|prom-client/],
  [
    'API request path',
    /express|router\/index|platform-express|alerting-api|alerts\.controller|pino-http|auth\.guard/,
  ],
  ['BullMQ, Redis', /bullmq|ioredis/],
  ['delivery (fetch)', /delivery\.processor|undici/],
  ['Prisma client runtime', /@prisma/],
  ['pg (sockets, protocol)', /pg-protocol|\/pg\/|pg-pool/],
  ['evaluator and router code', /alerting\//],
];
function category(s: readonly CallFrame[]): string {
  const top = s[0]!.functionName;
  if (top === '(idle)') return 'idle';
  if (top === '(garbage collector)') return 'GC';
  for (const [name, re] of RULES) if (s.some((f) => re.test(f.url))) return name;
  return 'other';
}

const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));
const dt = (i: number) => profile.timeDeltas[i + 1] ?? 1000;

// Stretches of non-idle samples.
interface Stretch {
  startUs: number;
  endUs: number;
  by: Map<string, number>;
}
const stretches: Stretch[] = [];
let cur: Stretch | undefined;
for (let i = 0; i < profile.samples.length; i++) {
  const c = category(stackOf(profile.samples[i]!));
  if (c === 'idle') {
    if (cur) stretches.push(cur);
    cur = undefined;
    continue;
  }
  cur ??= { startUs: times[i]!, endUs: times[i]!, by: new Map() };
  cur.endUs = times[i]! + dt(i);
  cur.by.set(c, (cur.by.get(c) ?? 0) + dt(i));
}
if (cur) stretches.push(cur);
const ms = (us: number) => (us / 1000).toFixed(0);
const long = stretches
  .filter((s) => s.startUs - profile.startTime >= skipUs && s.endUs - s.startUs >= minUs)
  .sort((a, b) => b.endUs - b.startUs - (a.endUs - a.startUs));
console.log(`stretches of ≥ ${ms(minUs)} ms after ${values['skip-s']} s: ${long.length}; the longest:`);
for (const s of long.slice(0, 20)) {
  const parts = [...s.by].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${ms(v)}`);
  const at = ((s.startUs - profile.startTime) / 1e6).toFixed(1);
  console.log(`  ${ms(s.endUs - s.startUs).padStart(4)} ms at ${at} s: ${parts.join(', ')}`);
}

// Evaluation passes: the first sample of each run of EvaluationShare.evaluate, 200 ms apart at
// least (passes are MIN_PASS_SPACING_MS or more apart: evaluation-shares.ts).
const starts: number[] = [];
for (let i = 0; i < profile.samples.length; i++) {
  const s = stackOf(profile.samples[i]!);
  if (!s.some((f) => f.functionName === 'evaluate' && f.url.includes('evaluation-share'))) continue;
  if (starts.length === 0 || times[i]! - starts[starts.length - 1]! > 2e5) starts.push(times[i]!);
}
const warm = starts.slice(2);
if (warm.length === 0) {
  console.log('fewer than three evaluations in the profile: no per-evaluation figures');
} else {
  const first = warm[0]!;
  const last = warm[warm.length - 1]! + windowUs;
  const inside = new Map<string, number>();
  const outside = new Map<string, number>();
  let spanUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i]! < first || times[i]! > last) continue;
    spanUs += dt(i);
    const c = category(stackOf(profile.samples[i]!));
    if (c === 'idle') continue;
    const m = warm.some((s) => times[i]! >= s && times[i]! < s + windowUs) ? inside : outside;
    m.set(c, (m.get(c) ?? 0) + dt(i));
  }
  const n = warm.length;
  const scale = (windowUs * n) / Math.max(1, spanUs - windowUs * n);
  console.log(
    `\nmain-thread CPU per evaluation (${n} evaluations), ms in the ${ms(windowUs)} ms after its start vs the same span between evaluations:`,
  );
  const keys = [...new Set([...inside.keys(), ...outside.keys()])];
  const rows = keys.map((k): [string, number, number] => [
    k,
    (inside.get(k) ?? 0) / n / 1000,
    ((outside.get(k) ?? 0) * scale) / n / 1000,
  ]);
  for (const [k, a, b] of rows.sort((x, y) => y[1] - y[2] - (x[1] - x[2])))
    console.log(`  ${a.toFixed(1).padStart(6)} ${b.toFixed(1).padStart(6)}  (+${(a - b).toFixed(1)})  ${k}`);
}
