// Which output modes a plan allows, after Spark's UnsupportedOperationChecker:
// - complete needs an aggregation (it re-emits the whole result table);
// - append with an aggregation needs a watermark on the event-time column it groups by, since a
//   group may only be emitted once it can no longer change;
// - stateless plans and deduplication allow append and update.
import type { OutputMode } from '../types';
import type { SessionWindowSpec, WindowSpec } from './logical-plan';

export interface ModeInput {
  kind: 'stateless' | 'aggregate' | 'dedupe';
  outputMode: OutputMode;
  source: string;
  watermark?: { column: string };
  window?: WindowSpec;
  session?: SessionWindowSpec;
  /** A plain grouping key that is the watermarked column. */
  eventTimeKey?: string;
}

export interface ModeVerdict {
  error?: string;
  warnings: string[];
}

export function checkOutputMode(input: ModeInput): ModeVerdict {
  const { kind, outputMode, source, watermark } = input;
  const warnings: string[] = [];
  if (kind !== 'aggregate') {
    if (outputMode === 'complete') {
      return {
        error:
          'complete output mode needs an aggregation (GROUP BY or an aggregate function); use append or update',
        warnings,
      };
    }
    if (kind === 'dedupe' && !watermark) {
      warnings.push(
        `deduplication without a watermark keeps every key in state forever; add sources.${source}.watermark`,
      );
    }
    return { warnings };
  }
  const evictable =
    watermark !== undefined &&
    (input.window?.column === watermark.column ||
      input.session?.column === watermark.column ||
      input.eventTimeKey !== undefined);
  if (outputMode === 'append' && input.session && !evictable) {
    // Spark refuses append without a watermark (a session is final only once the watermark passes
    // its end); with the watermark on another column no session would ever close.
    const how = watermark
      ? `the watermark is on ${watermark.column}, the session window on ${input.session.column}: put sources.${source}.watermark on ${input.session.column}`
      : `add sources.${source}.watermark on ${input.session.column}`;
    return {
      error: `append output mode with session_window(${input.session.column}, …) needs a watermark on ${input.session.column}, since a session is emitted once the watermark passes its end: ${how}; or use update or complete`,
      warnings,
    };
  }
  if (outputMode === 'append' && !evictable) {
    const how = watermark
      ? `group by window(${watermark.column}, …) or by ${watermark.column} itself`
      : `add sources.${source}.watermark on the column used in window(...)`;
    return {
      error: `append output mode with an aggregation needs a watermark on its event-time grouping column: ${how}; or use update or complete`,
      warnings,
    };
  }
  if (outputMode === 'complete')
    warnings.push('complete output mode keeps every group in state and re-emits all of them each batch');
  else if (!evictable)
    warnings.push(
      `the aggregation state grows without bound: group by window(<event-time column>, …) or session_window(<event-time column>, …) with sources.${source}.watermark so old groups can be evicted`,
    );
  return { warnings };
}
