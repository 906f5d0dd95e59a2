// Cleanup of a suite that may have started engines: each step bounded, run in order whatever the
// previous one did. An afterAll that hangs on one step (a control plane that does not close, a
// stop that never reaches STOPPED) used to time out with the rest undone, its engines left
// running on the shared machine; the suites kill their engines before anything that can hang, and
// again at the end for any started meanwhile.

/** One named step of a cleanup; its result is ignored. */
export type CleanupStep = readonly [what: string, run: () => unknown];

/**
 * Runs the steps in order, each for at most `stepMs`: a step that fails or overruns is reported on
 * stderr and the next one runs. Never rejects (a cleanup error would hide the test's own).
 */
export async function cleanUp(steps: readonly CleanupStep[], stepMs = 20_000): Promise<void> {
  for (const [what, run] of steps) {
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<'overrun'>((resolve) => {
      timer = setTimeout(() => resolve('overrun'), stepMs);
    });
    try {
      const outcome = await Promise.race([Promise.resolve().then(run), overrun]);
      if (outcome === 'overrun') process.stderr.write(`cleanup: ${what} took over ${stepMs} ms; moving on\n`);
    } catch (e) {
      process.stderr.write(`cleanup: ${what} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    } finally {
      clearTimeout(timer);
    }
  }
}
