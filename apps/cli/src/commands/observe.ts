// `sluice lag`, `sluice progress [--follow]`, `sluice events [--follow]`: what a query is doing.
// --follow reads the query's server-sent events until Ctrl-C, which ends the command with 0.
import type { Command } from 'commander';
import type { Operation, ProgressEvent, QueryLag } from '@sluice/contracts';
import { tailProgress } from '../api/progress-tail';
import { streamEvents, type StreamEvent } from '../api/sse';
import { renderTable } from '../output/table';
import { positiveInt, Session, type Io } from '../session';
import { fmtRate } from './queries';

const progressColumns = [
  { header: 'batch', value: (p: ProgressEvent) => p.batchId, right: true },
  { header: 'time', value: (p: ProgressEvent) => p.timestamp },
  { header: 'instance', value: (p: ProgressEvent) => p.sluice?.instance },
  { header: 'rows', value: (p: ProgressEvent) => p.numInputRows, right: true },
  { header: 'in/s', value: (p: ProgressEvent) => fmtRate(p.inputRowsPerSecond), right: true },
  { header: 'processed/s', value: (p: ProgressEvent) => fmtRate(p.processedRowsPerSecond), right: true },
  { header: 'ms', value: (p: ProgressEvent) => p.durationMs?.triggerExecution, right: true },
];

export function registerObserve(program: Command, io: Io): void {
  program
    .command('lag')
    .description("consumer lag of a query's source partitions: records and seconds behind")
    .argument('<query>', 'query name or id')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      const lag = await s.client().get<QueryLag>(`/api/v1/queries/${id}/lag`, { signal: io.signal });
      s.print(
        lag,
        () =>
          renderTable(lag.partitions, [
            { header: 'topic', value: (p) => p.topic },
            { header: 'partition', value: (p) => p.partition, right: true },
            { header: 'committed', value: (p) => p.committedOffset, right: true },
            { header: 'end', value: (p) => p.endOffset, right: true },
            { header: 'behind', value: (p) => p.recordsBehind, right: true },
            { header: 'seconds', value: (p) => p.secondsBehind, right: true },
          ]) + `total: ${lag.totalRecordsBehind} records behind, at most ${lag.maxSecondsBehind ?? '-'} s\n`,
      );
    });

  program
    .command('progress')
    .description("a query's latest progress events (one per micro-batch); --follow tails them live")
    .argument('<query>', 'query name or id')
    .option('--limit <n>', 'how many stored events', positiveInt('--limit', 1000), 20)
    .option('-f, --follow', 'keep printing new events until Ctrl-C')
    .action(async (ref: string, opts: { limit: number; follow?: boolean }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      if (opts.follow) {
        let header = false;
        if (s.format === 'table' && io.stderrTTY) io.stderr('following progress; Ctrl-C to stop\n');
        return tailProgress(s.client(), id, io.signal, (p) => {
          if (s.format !== 'table') return io.stdout(`${JSON.stringify(p)}\n`);
          // A table that grows: the header once, then one row per event with the same widths.
          const text = renderTable([p], progressColumns).split('\n');
          if (!header) io.stdout(`${text[0]}\n`);
          header = true;
          io.stdout(`${text[1]}\n`);
        });
      }
      const events = await s.client().get<ProgressEvent[]>(`/api/v1/queries/${id}/progress`, {
        query: { limit: opts.limit },
        signal: io.signal,
      });
      const oldestFirst = [...events].reverse();
      s.print(events, () =>
        events.length === 0 ? 'no progress yet\n' : renderTable(oldestFirst, progressColumns),
      );
    });

  program
    .command('events')
    .description("a query's operations; --follow streams its live events (progress, status, operation)")
    .argument('<query>', 'query name or id')
    .option('-f, --follow', 'stream live events until Ctrl-C')
    .option('--limit <n>', 'how many operations', positiveInt('--limit', 500), 20)
    .action(async (ref: string, opts: { follow?: boolean; limit: number }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const id = await s.queryId(ref);
      if (opts.follow)
        return follow(s, id, (e) =>
          io.stdout(s.format === 'table' ? `${eventLine(e)}\n` : `${JSON.stringify(e)}\n`),
        );
      const ops = await s.client().get<Operation[]>(`/api/v1/queries/${id}/operations`, {
        query: { limit: opts.limit },
        signal: io.signal,
      });
      s.print(ops, () => renderOperations(ops));
    });
}

export function renderOperations(ops: Operation[]): string {
  if (ops.length === 0) return 'no operations\n';
  return renderTable(ops, [
    { header: 'created', value: (o) => o.createdAt },
    { header: 'type', value: (o) => o.type },
    { header: 'state', value: (o) => o.state },
    { header: 'progress', value: (o) => `${o.progress}%`, right: true },
    { header: 'by', value: (o) => o.requestedBy },
    { header: 'error', value: (o) => o.error },
    { header: 'id', value: (o) => o.id },
  ]);
}

/** One line per live event, for people. */
export function eventLine(e: StreamEvent): string {
  const d = e.data as Record<string, unknown>;
  const at = new Date().toISOString();
  if (e.event === 'progress') {
    const p = d as unknown as ProgressEvent;
    return `${at} progress  batch ${p.batchId} ${p.sluice?.instance ?? ''} rows=${p.numInputRows} processed/s=${fmtRate(p.processedRowsPerSecond)}`;
  }
  if (e.event === 'operation') {
    const o = d as unknown as Operation;
    const step = o.steps.find((st) => st.state === 'running' || st.state === 'failed');
    return `${at} operation ${o.type} ${o.state.toLowerCase()} ${o.progress}%${step ? ` (${step.name})` : ''}${o.error ? `: ${o.error}` : ''}`;
  }
  if (e.event === 'status') {
    const conditions = (d.conditions as Array<{ type: string; status: string }> | undefined) ?? [];
    return `${at} status    ${String(d.phase)} ${conditions.map((c) => `${c.type}=${c.status}`).join(' ')}`;
  }
  return `${at} ${e.event} ${JSON.stringify(d)}`;
}

/** Streams until Ctrl-C (exit 0: stopping the tail is how a tail ends). */
async function follow(s: Session, id: string, onEvent: (e: StreamEvent) => void): Promise<void> {
  if (s.format === 'table' && s.io.stderrTTY) s.io.stderr('following live events; Ctrl-C to stop\n');
  await streamEvents(s.client(), `/api/v1/queries/${id}/events`, s.io.signal, onEvent);
}
