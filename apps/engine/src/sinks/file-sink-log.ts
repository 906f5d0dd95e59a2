// The file sink's metadata log, as Spark's `_spark_metadata` (FileStreamSinkLog): a data file
// counts only once the log names it, so a reader that lists the log never sees a file of a batch
// that did not commit (a crash between writing a file and logging it leaves an unlisted file that
// the batch's re-run replaces under the same name).
//
// Layout under the sink's directory: `_sluice_metadata/<scope>/<task>/<batchId>.json` per committed
// batch of a task (scope = checkpoint lineage, so a new checkpoint's batch 0 is not the old one's),
// and every COMPACT_EVERY batches `compact-<batchId>.json` holding every file of that task up to
// it, after which the per-batch entries it covers are deleted (Spark compacts every 10 batches by
// default, spark.sql.streaming.fileSink.log.compactInterval; 100 here since entries are per task).
import type { BlobStore } from '../checkpoint/blob-store';

export const METADATA_DIR = '_sluice_metadata';
export const COMPACT_EVERY = 100;

interface LogEntry {
  batchId: number;
  files: string[];
}

// Scopes and task names become folder names: anything but [A-Za-z0-9._-] is %-escaped, so no name
// can reach outside its folder.
const folder = (name: string): string => encodeURIComponent(name).replaceAll('*', '%2A');

const BATCH_FILE = /^(\d+)\.json$/;
const COMPACT_FILE = /^compact-(\d+)\.json$/;

function parseEntry(raw: Buffer | undefined, where: string): LogEntry {
  const e = raw ? (JSON.parse(raw.toString('utf8')) as Partial<LogEntry>) : undefined;
  if (!e || !Number.isInteger(e.batchId) || !Array.isArray(e.files))
    throw new Error(`file sink metadata ${where} is not a log entry`);
  return e as LogEntry;
}

export class FileSinkLog {
  constructor(private readonly store: BlobStore) {}

  private taskDir(scope: string, task: string): string {
    return `${METADATA_DIR}/${folder(scope)}/${folder(task)}`;
  }

  private async batchesOf(dir: string): Promise<{ batches: number[]; compacts: number[] }> {
    const names = await this.store.list(dir);
    const pick = (re: RegExp) =>
      names.flatMap((n) => {
        const m = re.exec(n);
        return m ? [Number(m[1])] : [];
      });
    return { batches: pick(BATCH_FILE), compacts: pick(COMPACT_FILE) };
  }

  /** The last batch this task committed in this lineage, if any. */
  async committedBatch(scope: string, task: string): Promise<number | undefined> {
    const { batches, compacts } = await this.batchesOf(this.taskDir(scope, task));
    const all = [...batches, ...compacts];
    return all.length ? Math.max(...all) : undefined;
  }

  /** Commits a task's batch: after this, its files are visible to readers. */
  async record(scope: string, task: string, batchId: number, files: string[]): Promise<void> {
    const dir = this.taskDir(scope, task);
    const entry: LogEntry = { batchId, files };
    await this.store.put(`${dir}/${batchId}.json`, Buffer.from(JSON.stringify(entry)));
    if ((batchId + 1) % COMPACT_EVERY === 0) await this.compact(dir, batchId);
  }

  private async compact(dir: string, upTo: number): Promise<void> {
    const files = new Set(await this.filesOf(dir));
    const entry: LogEntry = { batchId: upTo, files: [...files] };
    await this.store.put(`${dir}/compact-${upTo}.json`, Buffer.from(JSON.stringify(entry)));
    // Only after the compact entry is durable; a crash before this leaves entries the compact
    // entry repeats, which readers de-duplicate.
    const { batches, compacts } = await this.batchesOf(dir);
    await this.store.delete([
      ...batches.filter((b) => b <= upTo).map((b) => `${dir}/${b}.json`),
      ...compacts.filter((c) => c < upTo).map((c) => `${dir}/compact-${c}.json`),
    ]);
  }

  private async filesOf(dir: string): Promise<string[]> {
    const { batches, compacts } = await this.batchesOf(dir);
    const newest = compacts.length ? Math.max(...compacts) : undefined;
    const out: string[] = [];
    if (newest !== undefined) {
      const where = `${dir}/compact-${newest}.json`;
      out.push(...parseEntry(await this.store.get(where), where).files);
    }
    for (const b of batches.sort((x, y) => x - y)) {
      if (newest !== undefined && b <= newest) continue;
      const where = `${dir}/${b}.json`;
      out.push(...parseEntry(await this.store.get(where), where).files);
    }
    return out;
  }

  /** Every committed data file of the sink, over every lineage and task (names relative to it). */
  async committedFiles(): Promise<string[]> {
    const files = new Set<string>();
    for (const scope of await this.store.listDirs(METADATA_DIR))
      for (const task of await this.store.listDirs(`${METADATA_DIR}/${scope}`))
        for (const f of await this.filesOf(`${METADATA_DIR}/${scope}/${task}`)) files.add(f);
    return [...files].sort();
  }
}
