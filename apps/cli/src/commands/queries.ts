// `sluice queries list|get|versions|diff|validate|deploy`: reading queries and registering new ones.
import type { Command } from 'commander';
import { createTwoFilesPatch } from 'diff';
import type {
  CompatibilityReport,
  Operation,
  QueryDetail,
  QuerySummary,
  QueryVersion,
} from '@sluice/contracts';
import { ApiRequestError } from '../api/api-error';
import { CliError, EXIT } from '../exit-codes';
import { renderCompatibility } from '../output/compatibility';
import { renderSpecErrors } from '../output/spec-errors';
import { renderFields, renderTable } from '../output/table';
import { positiveInt, Session, type Io, type WaitOptions } from '../session';
import { readSpecFile, readSpecForUpload, type SpecFile } from '../spec-file';
import { cpuLimitArg, registerCpuLimit, setCpuLimit } from './cpu-limit';
import { addWaitOptions, registerQueryActions } from './query-actions';

export function registerQueries(program: Command, io: Io): void {
  const queries = program
    .command('queries')
    .alias('query')
    .description('list, inspect, deploy and change queries');

  queries
    .command('list')
    .alias('ls')
    .description('every query with its phase, version and instances')
    .action(async (_o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const rows = await s.client().get<QuerySummary[]>('/api/v1/queries', { signal: io.signal });
      s.print(rows, () =>
        rows.length === 0
          ? 'no queries; deploy one with `sluice queries deploy -f spec.yaml`\n'
          : renderTable(rows, [
              { header: 'name', value: (q) => q.name },
              { header: 'phase', value: (q) => q.phase },
              { header: 'desired', value: (q) => q.desired.state },
              { header: 'version', value: (q) => q.desired.version, right: true },
              { header: 'instances', value: (q) => q.desired.instances, right: true },
              { header: 'rate limit', value: (q) => q.desired.rateLimit, right: true },
              { header: 'last progress', value: (q) => q.lastProgressAt },
              { header: 'id', value: (q) => q.id },
            ]),
      );
    });

  queries
    .command('get')
    .description('one query: desired and observed state, conditions, instances, latest progress')
    .argument('<query>', 'query name or id')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      const q = await s.client().get<QueryDetail>(`/api/v1/queries/${id}`, { signal: io.signal });
      s.print(q, () => renderQuery(q));
    });

  queries
    .command('versions')
    .description('every version of a query spec')
    .argument('<query>', 'query name or id')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      const rows = await s
        .client()
        .get<QueryVersion[]>(`/api/v1/queries/${id}/versions`, { signal: io.signal });
      s.print(rows, () =>
        renderTable(rows, [
          { header: 'version', value: (v) => v.version, right: true },
          { header: 'plan hash', value: (v) => v.planHash.slice(0, 12) },
          { header: 'created', value: (v) => v.createdAt },
          { header: 'by', value: (v) => v.createdBy },
        ]),
      );
    });

  queries
    .command('diff')
    .description(
      'what changed from version --from to --to: the spec texts, and whether --to may resume from the checkpoint of --from',
    )
    .argument('<query>', 'query name or id')
    .requiredOption(
      '--from <version>',
      'the older version (whose checkpoint it would resume from)',
      positiveInt('--from'),
    )
    .requiredOption('--to <version>', 'the newer version', positiveInt('--to'))
    .action(async (ref: string, opts: { from: number; to: number }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      const [versions, compatibility] = await Promise.all([
        s.client().get<QueryVersion[]>(`/api/v1/queries/${id}/versions`, {
          signal: io.signal,
        }),
        s
          .client()
          .get<CompatibilityReport & { version: number }>(
            `/api/v1/queries/${id}/versions/${opts.to}/compatibility`,
            { query: { against: opts.from }, signal: io.signal },
          ),
      ]);
      const text = (v: number) => {
        const found = versions.find((x) => x.version === v);
        if (!found) throw new CliError(`query ${ref} has no version ${v}`, EXIT.NOT_FOUND);
        return found.specText;
      };
      const specDiff = createTwoFilesPatch(
        `version ${opts.from}`,
        `version ${opts.to}`,
        text(opts.from),
        text(opts.to),
      );
      s.print(
        { from: opts.from, to: opts.to, specDiff, compatibility },
        () => `${specDiff.split('\n').slice(1).join('\n')}\n${renderCompatibility(opts.to, compatibility)}`,
      );
    });

  queries
    .command('validate')
    .description('compile a spec locally (no control plane needed): the plan hash, or FILE:LINE:COL errors')
    .requiredOption('-f, --file <spec>', 'query spec (YAML or JSON)')
    .action(async (opts: { file: string }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const spec = readSpecFile(opts.file);
      // Loaded here only: the SQL parser takes a moment to load and no other command needs it.
      // (require, not import(): the bin shim's tsx hook covers CommonJS loading.)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { compileSpec } = require('@sluice/query-plan') as typeof import('@sluice/query-plan');
      const result = compileSpec(spec.text, spec.file);
      if (!result.ok) {
        if (s.format === 'table') io.stderr(renderSpecErrors(spec.file, spec.text, result.errors));
        else s.print({ valid: false, errors: result.errors }, () => '');
        throw new CliError(`${spec.file}: invalid spec (${result.errors.length} error(s))`, EXIT.ERROR);
      }
      for (const w of result.warnings) s.warn(`${spec.file}: ${w}`);
      s.print(
        { valid: true, name: result.spec.name, planHash: result.planHash, warnings: result.warnings },
        () => `${spec.file}: valid (query "${result.spec.name}", plan ${result.planHash.slice(0, 12)})\n`,
      );
    });

  addWaitOptions(
    queries
      .command('deploy')
      .description(
        'register a new query from a spec file and start it (an existing query: `queries upgrade`)',
      )
      .requiredOption('-f, --file <spec>', 'query spec (YAML or JSON)')
      .option('--no-start', 'register version 1 without deploying it')
      .option(
        '--cpu-limit <cores>',
        'CPU limit of each engine instance: cores (0.25) or millicores (250m)',
        cpuLimitArg,
      ),
  ).action(
    async (opts: WaitOptions & { file: string; start: boolean; cpuLimit?: number | null }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const spec = await readSpecForUpload(opts.file);
      // With a CPU limit the query is registered stopped, limited, then deployed: its first engines
      // start limited (a Kubernetes pod cannot gain a CPU limit in place).
      const limited = opts.cpuLimit !== undefined && opts.cpuLimit !== null;
      const created = await uploadSpec(s, spec, () =>
        s
          .client()
          .post<{ id: string; name: string; operation: Operation | null; warnings: string[] }>(
            '/api/v1/queries',
            { yaml: spec.text, query: { deploy: String(opts.start && !limited) }, signal: io.signal },
          ),
      ).catch((e: unknown) => {
        if (e instanceof ApiRequestError && e.body.code === 'QUERY_EXISTS')
          throw new CliError(
            `${e.body.message ?? 'the query exists'}: change it with \`sluice queries upgrade <name> -f ${spec.file}\``,
            EXIT.REFUSED,
          );
        throw e;
      });
      for (const w of created.warnings) s.warn(w);
      if (limited) {
        await setCpuLimit(s, created.id, opts.cpuLimit ?? null);
        if (opts.start)
          created.operation = await s.client().post<Operation>(`/api/v1/queries/${created.id}/deploy`, {
            body: { version: 1 },
            signal: io.signal,
          });
      }
      if (!created.operation) {
        s.print(
          created,
          () => `registered query "${created.name}" (${created.id}), version 1, not deployed\n`,
        );
        return;
      }
      if (s.format === 'table') io.stderr(`registered query "${created.name}" (${created.id}), version 1\n`);
      await s.finishOperation(created.operation, opts);
    },
  );

  registerQueryActions(queries, io);
  registerCpuLimit(queries, io);
}

/** Uploads spec text; a 422 prints each error with its line and a caret, then exits 1. */
export async function uploadSpec<T>(s: Session, spec: SpecFile, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 422) {
      const errors = e.body.errors ?? [];
      s.io.stderr(
        renderSpecErrors(
          spec.file,
          spec.text,
          errors.length ? errors : [{ message: e.body.message ?? 'invalid spec' }],
        ),
      );
      throw new CliError(
        `${spec.file}: the control plane refused the spec (${errors.length} error(s))`,
        EXIT.ERROR,
      );
    }
    throw e;
  }
}

function renderQuery(q: QueryDetail): string {
  const out = renderFields([
    ['Name', q.name],
    ['Id', q.id],
    ['Phase', q.phase],
    ['Desired', `${q.desired.state}, version ${q.desired.version}, ${q.desired.instances} instance(s)`],
    ['Rate limit', q.desired.rateLimit ?? 'none'],
    [
      'Observed',
      `${q.observed.runningInstances} running, last good version ${q.observed.lastGoodVersion ?? '-'}`,
    ],
    ['Generation', `${q.observedGeneration}/${q.generation} observed`],
    ['Last progress', q.lastProgressAt],
  ]);
  const parts = [out];
  if (q.conditions.length)
    parts.push(
      '\nConditions:\n' +
        renderTable(q.conditions, [
          { header: 'type', value: (c) => c.type },
          { header: 'status', value: (c) => c.status },
          { header: 'reason', value: (c) => c.reason },
          { header: 'message', value: (c) => c.message },
        ]),
    );
  if (q.instances.length)
    parts.push(
      '\nInstances:\n' +
        renderTable(q.instances, [
          { header: 'name', value: (i) => i.name },
          { header: 'status', value: (i) => i.status },
          { header: 'restarts', value: (i) => i.restarts, right: true },
          { header: 'started', value: (i) => i.startedAt },
        ]),
    );
  const p = q.lastProgress;
  if (p)
    parts.push(
      `\nLast batch: ${p.batchId} at ${p.timestamp}, ${p.numInputRows} rows, ${fmtRate(p.processedRowsPerSecond)} rows/s processed\n`,
    );
  return parts.join('');
}

export function fmtRate(n: number | undefined): string {
  return n === undefined ? '-' : n.toFixed(1);
}
