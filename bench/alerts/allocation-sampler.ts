// Where the main thread's allocations during an evaluation come from (bench:alerts with
// BENCH_ALLOC_PROFILE=<file>). V8's sampling heap profiler runs only while an evaluation does, with
// the objects the collector already freed kept in the sample (the young ones are what makes its
// scavenges), and the totals are written as KiB per evaluation by allocating function, built-ins
// under the function that called them. API requests served during the windows are in it too.
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

export class AllocationSampler {
  private readonly session = new Session();
  private readonly totals = new Map<string, number>();
  private windows = 0;

  constructor(private readonly file: string) {
    this.session.connect();
  }

  async start(): Promise<void> {
    await this.session.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  }

  async stop(): Promise<void> {
    const { profile } = (await this.session.post('HeapProfiler.stopSampling')) as {
      profile: { head: ProfileNode };
    };
    this.add(profile.head, '');
    this.windows++;
    const top = [...this.totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 60)
      .map(([where, bytes]) => `${Math.round(bytes / this.windows / 1024)} KiB/evaluation  ${where}`);
    fs.writeFileSync(this.file, `${top.join('\n')}\n`);
  }

  private add(node: ProfileNode, caller: string): void {
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-3).join('/')}:${f.lineNumber + 1}`;
    // A built-in (no url) is charged to the function that called it.
    const key = f.url ? name : `${name} <- ${caller}`;
    this.totals.set(key, (this.totals.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) this.add(c, f.url ? name : caller);
  }
}
