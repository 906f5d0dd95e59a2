// The changes that start an operation: upgrade, rollback, scale, rate-limit, stop, start, delete.
// Each one follows its operation's steps (on a terminal, or with --wait) until it ends.
import { Option, type Command } from 'commander';
import type { CompatibilityReport, Operation } from '@sluice/contracts';
import { ApiRequestError } from '../api/api-error';
import { CliError, EXIT, usageError } from '../exit-codes';
import { renderCompatibility } from '../output/compatibility';
import { positiveInt, Session, type Io, type WaitOptions } from '../session';
import { readSpecForUpload } from '../spec-file';
import { uploadSpec } from './queries';

export const UPGRADE_STRATEGIES = ['in-place', 'new-checkpoint'] as const;

export function addWaitOptions(cmd: Command): Command {
  return cmd
    .option('--wait', 'wait until the operation ends (the default on a terminal)')
    .option('--no-wait', 'return as soon as the operation is accepted')
    .option('--timeout <seconds>', 'stop waiting after this long (the operation goes on)', '300');
}

export function registerQueryActions(queries: Command, io: Io): void {
  const act = (
    name: string,
    description: string,
    build: (cmd: Command) => Command,
    run: (s: Session, id: string, args: unknown[], opts: Record<string, unknown>) => Promise<Operation>,
  ) =>
    addWaitOptions(
      build(queries.command(name).description(description).argument('<query>', 'query name or id')),
    ).action(async (...params: unknown[]) => {
      const cmd = params[params.length - 1] as Command;
      const opts = params[params.length - 2] as WaitOptions & Record<string, unknown>;
      const args = params.slice(0, -2);
      const s = Session.of(cmd, io);
      const id = await s.queryId(args[0] as string);
      const op = await run(s, id, args.slice(1), opts);
      await s.finishOperation(op, opts);
    });

  act(
    'scale',
    'set the number of engine instances',
    (c) => c.argument('<instances>', 'instance count', positiveInt('instances')),
    (s, id, [n]) =>
      s.client().post(`/api/v1/queries/${id}/scale`, { body: { instances: Number(n) }, signal: s.io.signal }),
  );
  act(
    'rate-limit',
    'set maxOffsetsPerTrigger of the running instances ("none" removes the limit)',
    (c) => c.argument('<records>', 'records per trigger, or "none"', rateLimitArg),
    (s, id, [n]) =>
      s.client().post(`/api/v1/queries/${id}/rate-limit`, {
        body: { maxOffsetsPerTrigger: n === null ? null : Number(n) },
        signal: s.io.signal,
      }),
  );
  act(
    'stop',
    'stop a query (its instances drain)',
    (c) => c,
    (s, id) => s.client().post(`/api/v1/queries/${id}/stop`, { signal: s.io.signal }),
  );
  act(
    'start',
    'start a stopped or failed query',
    (c) => c,
    (s, id) => s.client().post(`/api/v1/queries/${id}/start`, { signal: s.io.signal }),
  );
  act(
    'delete',
    'drain a query, then delete it with its versions (admin)',
    (c) => c.option('-y, --yes', 'do not ask for confirmation'),
    async (s, id, _a, opts) => {
      await s.confirm(`delete query ${id} and its versions?`, opts.yes as boolean | undefined);
      return s.client().delete(`/api/v1/queries/${id}`, { signal: s.io.signal });
    },
  );
  act(
    'rollback',
    'go back to the last good version (on its checkpoint)',
    (c) =>
      c
        .option('--force', 'even when that version is incompatible with the checkpoint')
        .option('-y, --yes', 'do not ask for confirmation'),
    async (s, id, _a, opts) => {
      await s.confirm(`roll query ${id} back to its last good version?`, opts.yes as boolean | undefined);
      try {
        return await s.client().post<Operation>(`/api/v1/queries/${id}/rollback`, {
          body: opts.force ? { force: true } : {},
          signal: s.io.signal,
        });
      } catch (e) {
        if (e instanceof ApiRequestError && e.status === 409 && e.body.compatibility) {
          const report = e.body.compatibility as CompatibilityReport & { version?: number };
          s.io.stderr(renderCompatibility(report.version ?? 0, report));
        }
        throw e;
      }
    },
  );
  act(
    'upgrade',
    'add a version from a spec file, show its compatibility report, confirm, and deploy it',
    (c) =>
      c
        .requiredOption('-f, --file <spec>', 'the new query spec (YAML or JSON)')
        .addOption(
          new Option(
            '--strategy <strategy>',
            'in-place resumes from the checkpoint; new-checkpoint starts over',
          )
            .choices(UPGRADE_STRATEGIES)
            .default('in-place'),
        )
        .addOption(
          new Option(
            '--starting-offsets <where>',
            "with new-checkpoint: continue from the old version's offsets (default), earliest or latest",
          ).choices(['continue', 'earliest', 'latest']),
        )
        .option('--force', 'deploy even though the report says incompatible (admin)')
        .option('-y, --yes', 'do not ask for confirmation'),
    (s, id, _a, opts) => upgrade(s, id, opts as unknown as UpgradeOptions),
  );
}

interface UpgradeOptions {
  file: string;
  strategy: (typeof UPGRADE_STRATEGIES)[number];
  startingOffsets?: string;
  force?: boolean;
  yes?: boolean;
}

async function upgrade(s: Session, id: string, opts: UpgradeOptions): Promise<Operation> {
  if (opts.startingOffsets && opts.strategy !== 'new-checkpoint')
    throw usageError(
      '--starting-offsets goes with --strategy new-checkpoint (in-place resumes where it stopped)',
    );
  // Before anything is stored: the version would be added and then not deployed.
  s.requireConfirmable('upgrade', opts.yes);
  const spec = await readSpecForUpload(opts.file);
  const created = await uploadSpec(s, spec, () =>
    s
      .client()
      .post<{ version: number; warnings: string[]; compatibility: CompatibilityReport | null }>(
        `/api/v1/queries/${id}/versions`,
        { yaml: spec.text, signal: s.io.signal },
      ),
  );
  for (const w of created.warnings) s.warn(w);
  const report = created.compatibility;
  // The report goes to stderr: stdout stays the operation (-o json) for scripts.
  if (report) s.io.stderr(renderCompatibility(created.version, report));
  if (report && !report.compatible && opts.strategy === 'in-place' && !opts.force)
    throw new CliError(
      `version ${created.version} (stored) cannot resume from version ${report.against}'s checkpoint: upgrade with --strategy new-checkpoint, or --force`,
      EXIT.REFUSED,
    );
  await s.confirm(
    `deploy version ${created.version} (${opts.strategy}${report ? `, against version ${report.against}` : ''})?`,
    opts.yes,
    // The version was stored to get its report (the API has no dry run); only the deploy is skipped.
    `cancelled; version ${created.version} is stored but not deployed`,
  );
  try {
    return await s.client().post<Operation>(`/api/v1/queries/${id}/upgrade`, {
      body: {
        version: created.version,
        strategy: opts.strategy,
        ...(opts.startingOffsets ? { startingOffsets: opts.startingOffsets } : {}),
        ...(opts.force ? { force: true } : {}),
      },
      signal: s.io.signal,
    });
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 409 && e.body.compatibility)
      s.io.stderr(renderCompatibility(created.version, e.body.compatibility as CompatibilityReport));
    throw e;
  }
}

function rateLimitArg(text: string): number | null {
  if (text === 'none') return null;
  return positiveInt('records')(text);
}
