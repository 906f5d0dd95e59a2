// `sluice queries cpu-limit <query> <cores|none>` and the `--cpu-limit` of `queries deploy`: the
// query's CPU limit per engine instance (a cgroup quota locally, the pod's CPU limit on
// Kubernetes). The bounds are the contracts' (the same the API validates with).
import type { Command } from 'commander';
// The dependency-free bounds module alone, not the library's index (which loads zod).
import { parseCpuLimit } from '@sluice/contracts/src/cpu-limit';
import { usageError } from '../exit-codes';
import { Session, type Io } from '../session';

/** Commander argument parser: cores, millicores or "none" (null); a usage error otherwise. */
export function cpuLimitArg(text: string): number | null {
  try {
    return parseCpuLimit(text);
  } catch (e) {
    throw usageError((e as Error).message);
  }
}

interface ScalingSettings {
  cpuLimit: number | null;
}

/** Sets the query's CPU limit (POST /scaling); running instances get it in place. */
export function setCpuLimit(s: Session, id: string, cores: number | null): Promise<ScalingSettings> {
  return s.client().post<ScalingSettings>(`/api/v1/queries/${id}/scaling`, {
    body: { cpuLimit: cores },
    signal: s.io.signal,
  });
}

export function registerCpuLimit(queries: Command, io: Io): void {
  queries
    .command('cpu-limit')
    .description(
      'set the CPU limit of each engine instance in cores (0.25) or millicores (250m); "none" removes it. Running instances get it in place',
    )
    .argument('<query>', 'query name or id')
    .argument('<cores>', 'cores, millicores or "none"', cpuLimitArg)
    .action(async (ref: string, cores: number | null, _o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      const settings = await setCpuLimit(s, id, cores);
      s.print(
        settings,
        () =>
          `${ref}: ${settings.cpuLimit === null ? 'no CPU limit' : `CPU limit ${settings.cpuLimit} core(s) per instance`}` +
          ' (see `sluice queries get` for whether each instance applied it)\n',
      );
    });
}
