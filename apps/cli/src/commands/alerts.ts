// `sluice alerts list|silence|ack`: the alerting API (/api/v1/alerts, /api/v1/silences).
// Alerts carry Prometheus-style labels (alertname, query, severity); silences match on them.
import { Option, type Command } from 'commander';
// The duration module alone (it imports nothing), not the library's index: loading the SQL parser
// would slow every command. The boundary rule counts the whole library as lazy-loaded (the CLI
// requires its compiler on demand elsewhere); this static import loads only this one file.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { parseDuration as durationMs } from '@sluice/query-plan/src/spec/duration';
import { usageError } from '../exit-codes';
import { renderTable } from '../output/table';
import { positiveInt, Session, type Io } from '../session';

interface Alert {
  id: string;
  rule: string;
  query: string;
  state: string;
  activeAt: string | null;
  firedAt: string | null;
  value: number | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  silencedBy: string[];
  acknowledged: { at: string; by: string; comment: string } | null;
}

interface Silence {
  id: string;
  endsAt: string;
  state: string;
}

/**
 * A silence's length in seconds: any duration the specs accept (30m, 2h, 1d, 1h30m, '2 days';
 * the library's parser, one grammar for every duration), more than zero and at most a year, as
 * the API allows.
 */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined || !(ms >= 1000) || ms > 366 * 86_400_000)
    throw usageError(
      `--duration takes a duration of 1s to a year, e.g. 30m, 2h, 1d or 1h30m (got "${text}")`,
    );
  return Math.floor(ms / 1000);
}

/** `name=value` (equal) or `name=~regex` (regex) → the API's matcher. */
export function parseMatcher(text: string): { name: string; value: string; isRegex: boolean } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(=~|=)(.*)$/.exec(text);
  if (!m) throw usageError(`--match takes label=value or label=~regex (got "${text}")`);
  return { name: m[1]!, value: m[3]!, isRegex: m[2] === '=~' };
}

export function registerAlerts(program: Command, io: Io): void {
  const alerts = program
    .command('alerts')
    .alias('alert')
    .description('lag and health alerts: list, silence, acknowledge');

  alerts
    .command('list')
    .alias('ls')
    .description('alerts, one per rule and query')
    .addOption(
      new Option('--state <state>', 'only alerts in this state').choices(['pending', 'firing', 'resolved']),
    )
    .option('--query <name>', 'only alerts of this query')
    .option('--rule <name>', 'only alerts of this rule')
    .option('--limit <n>', 'at most this many', positiveInt('--limit', 1000), 100)
    .action(async (opts: { state?: string; query?: string; rule?: string; limit: number }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const rows = await s.client().get<Alert[]>('/api/v1/alerts', {
        query: { state: opts.state, query: opts.query, rule: opts.rule, limit: opts.limit },
        signal: io.signal,
      });
      s.print(rows, () =>
        rows.length === 0
          ? 'no alerts\n'
          : renderTable(rows, [
              { header: 'state', value: (a) => a.state },
              { header: 'rule', value: (a) => a.rule },
              { header: 'query', value: (a) => a.query },
              { header: 'severity', value: (a) => a.labels.severity },
              { header: 'value', value: (a) => a.value, right: true },
              { header: 'since', value: (a) => a.firedAt ?? a.activeAt },
              { header: 'silenced', value: (a) => (a.silencedBy.length ? 'yes' : '') },
              { header: 'acked by', value: (a) => a.acknowledged?.by },
              { header: 'id', value: (a) => a.id },
            ]),
      );
    });

  alerts
    .command('silence')
    .description('mute matching alerts for a while (notifications stop; alerts still show)')
    .option('--query <name>', 'alerts of this query (label query)')
    .option('--rule <name>', 'alerts of this rule (label alertname)')
    .option('--match <label=value>', 'another label matcher, =~ for a regex (repeatable)', collect, [])
    .requiredOption('--duration <d>', 'how long, e.g. 30m, 2h, 1d')
    .requiredOption('--comment <text>', 'why (shown with the silence)')
    .action(
      async (
        opts: { query?: string; rule?: string; match: string[]; duration: string; comment: string },
        cmd: Command,
      ) => {
        const s = Session.of(cmd, io);
        const matchers = [
          ...(opts.query ? [{ name: 'query', value: opts.query, isRegex: false }] : []),
          ...(opts.rule ? [{ name: 'alertname', value: opts.rule, isRegex: false }] : []),
          ...opts.match.map(parseMatcher),
        ];
        if (matchers.length === 0)
          throw usageError('say what to silence: --query, --rule or --match label=value');
        const endsAt = new Date(Date.now() + parseDuration(opts.duration) * 1000).toISOString();
        const silence = await s.client().post<Silence>('/api/v1/silences', {
          body: { matchers, endsAt, comment: opts.comment },
          signal: io.signal,
        });
        s.print(silence, () => `silence ${silence.id} ${silence.state} until ${silence.endsAt}\n`);
      },
    );

  alerts
    .command('ack')
    .description('acknowledge a firing alert: no repeat notifications for this episode')
    .argument('<id>', 'alert id (see `sluice alerts list`)')
    .option('--comment <text>', 'a note for the others', '')
    .action(async (id: string, opts: { comment: string }, cmd: Command) => {
      const s = Session.of(cmd, io);
      const alert = await s.client().post<Alert>(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, {
        body: { comment: opts.comment },
        signal: io.signal,
      });
      s.print(alert, () => `acknowledged alert ${alert.id} (${alert.rule} on ${alert.query})\n`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
