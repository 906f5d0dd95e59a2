// One fuzz run at a time per checkout: runs share a port, a database name and a Redis database
// index. A second run waits for the first; a lock left by a dead process is taken over.
import fs from 'node:fs';
import { pidAlive as alive } from '../stack/proc';

export async function acquireRunLock(
  file: string,
  timeoutMs: number,
  log: (m: string) => void,
): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(file, 'utf8'));
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`another schemathesis run (pid ${holder}) still holds ${file}`);
    if (!told) log(`waiting for the schemathesis run of pid ${holder} to finish`);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
