// Spec texts for unit tests. `querySpec` keeps line numbers fixed: the SQL always starts on
// line 9, column 3, whatever the options.

export const DESIGN_SPEC = `name: clicks-per-user
sources:
  clicks:
    kafka: { topic: clicks, startingOffsets: earliest }
    format: json                       # json | csv | raw
    schema: { user_id: string, url: string, ts: timestamp, bytes: long }
    watermark: { column: ts, delay: 10 seconds }
sql: |
  SELECT window.start AS window_start, user_id, count(*) AS clicks, sum(bytes) AS bytes
  FROM clicks
  WHERE url LIKE '/product/%'
  GROUP BY window(ts, '1 minute'), user_id
sink:
  postgres: { table: clicks_per_user, key: [window_start, user_id] }   # or kafka: { topic: ... }
outputMode: update                     # append | update | complete
trigger: { processingTime: 2 seconds } # or { availableNow: true }
options: { maxOffsetsPerTrigger: 100000 }
`;

export const SQL_LINE = 9;
export const SQL_COLUMN = 3;

export interface SpecParts {
  sql: string;
  watermark?: boolean;
  sink?: string;
  outputMode?: string;
  options?: string;
}

export function querySpec({
  sql,
  watermark = true,
  sink = '{ console: {} }',
  outputMode = 'update',
  options = '{}',
}: SpecParts): string {
  return [
    'name: q',
    'sources:',
    '  clicks:',
    '    kafka: { topic: clicks, startingOffsets: earliest }',
    '    format: json',
    '    schema: { user_id: string, url: string, ts: timestamp, bytes: long, ok: boolean }',
    watermark ? '    watermark: { column: ts, delay: 10 seconds }' : '    # no watermark',
    'sql: |',
    ...sql.split('\n').map((line) => `  ${line}`),
    `sink: ${sink}`,
    `outputMode: ${outputMode}`,
    `options: ${options}`,
    '',
  ].join('\n');
}
