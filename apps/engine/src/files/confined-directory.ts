// The folder a file sink writes or a file source reads: `relative` under the engine's file root
// (SLUICE_FILE_SINK_ROOT), refusing anything that resolves outside it — a `..`, an absolute path,
// or a symbolic link inside the root pointing elsewhere (checked on the real path). The spec's
// pattern already refuses the first two; this is the engine's own guard, since an engine runs
// whatever spec it is given.
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * The real path of `relative` under `root`. `create`: make the folder if missing (a sink);
 * otherwise a missing folder resolves to undefined (a source waits for it).
 */
export async function confinedDirectory(
  root: string,
  relative: string,
  what: string,
  create: boolean,
): Promise<string | undefined> {
  const realRoot = await fs.realpath(root);
  const dir = path.resolve(realRoot, relative);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);
  if (path.isAbsolute(relative) || !inside(dir))
    throw new Error(`${what} path "${relative}" leaves the file root ${realRoot}`);
  if (create) await fs.mkdir(dir, { recursive: true });
  let real: string;
  try {
    real = await fs.realpath(dir);
  } catch (e) {
    if (!create && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (!inside(real)) throw new Error(`${what} path "${relative}" resolves to ${real}, outside ${realRoot}`);
  return real;
}
