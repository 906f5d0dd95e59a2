// Which shuffled rows a stage-2 task folds, decided in one place for every stateful operator
// (aggregation, dedup, session windows, stateful functions): each row is counted as input and
// its event time raises the batch's maximum (late rows included, as Spark's event-time
// statistics include them); a row behind the watermark in force is then dropped and counted, as
// Spark's stateful operators drop input older than the watermark.
import type { SourceRecord } from '../source/group-reader';
import { decodeShuffledRecord } from './shuffle-codec';
import type { ShuffleStageInput, ShuffleStageResult } from './shuffle-result';
import type { ShuffledRow } from './source-stage';

type Admission = Pick<ShuffleStageInput, 'executor' | 'records' | 'watermarkMs' | 'watermarkEnabled'>;

/** Whether an event time is behind the watermark in force (0 = no watermark yet). */
export function isBehindWatermark(args: Admission, t: number | undefined): boolean {
  return args.watermarkEnabled && args.watermarkMs > 0 && t !== undefined && t < args.watermarkMs;
}

/**
 * Calls `each` with every row of the batch's records that is not behind the watermark, in order,
 * after counting it into `result` (numInputRows, maxEventTimeMs, numRowsDroppedByWatermark). A
 * record that cannot be decoded throws (decodeShuffledRecord): the batch fails, nothing counted
 * is committed.
 */
export function forEachAdmittedRow(
  args: Admission,
  result: ShuffleStageResult,
  each: (record: SourceRecord, body: ShuffledRow, eventTimeMs: number | undefined) => void,
): void {
  for (const record of args.records) {
    for (const body of decodeShuffledRecord(record)) {
      result.numInputRows++;
      const t = args.executor.eventTimeMs(body.r);
      if (t !== undefined) result.maxEventTimeMs = Math.max(result.maxEventTimeMs ?? t, t);
      if (isBehindWatermark(args, t)) {
        result.numRowsDroppedByWatermark++;
        continue;
      }
      each(record, body, t);
    }
  }
}
