// The pinned Go tools (scripts/tools/go-tools.tsv) for the chart and rule tests. npm test builds them
// before the integration tests (scripts/test.sh); a test file run alone builds what is missing here,
// which takes minutes the first time on a machine (progress goes to stderr).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const CHART = path.join(ROOT, 'helm/sluice');
/** Sample Kubernetes version for rendering: helm built by `go install` reports v1.20 otherwise. */
export const KUBE_VERSION = '1.31.0';

export type GoTool = 'helm' | 'helm-docs' | 'promtool';

export function goTool(name: GoTool): string {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/tools/go-tools.sh'), name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`building ${name} failed (scripts/tools/go-tools.sh)`);
  return path.join(r.stdout.trim().split('\n').pop() ?? '', name);
}

export function run(bin: string, args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync(bin, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

/** A cold build of every tool is ~25 CPU-minutes on this project's 2-core machines. */
export const TOOL_BUILD_TIMEOUT_MS = 60 * 60 * 1000;
