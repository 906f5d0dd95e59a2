import { describe, expect, it } from 'vitest';
import { TriggerRendezvous } from './trigger-rendezvous';

/** A rendezvous whose commit records what it was given and succeeds or fails as told. */
function recording(tasks: string[], fail?: Error) {
  const commits: string[][] = [];
  const r = new TriggerRendezvous<string>(tasks, async (parts) => {
    commits.push(parts);
    if (fail) throw fail;
  });
  return { r, commits };
}

describe('TriggerRendezvous', () => {
  it('commits once, with every contribution, when the last expected task contributes', async () => {
    const { r, commits } = recording(['a', 'b', 'c']);
    const a = r.contribute('a', 'A');
    const c = r.contribute('c', 'C');
    await Promise.resolve();
    expect(commits).toEqual([]);
    expect(r.pending).toBe(1);
    const b = r.contribute('b', 'B');
    await Promise.all([a, b, c]);
    expect(commits).toEqual([['A', 'C', 'B']]);
  });

  it('a withdrawn task is not waited for and adds nothing', async () => {
    const { r, commits } = recording(['a', 'b']);
    const a = r.contribute('a', 'A');
    r.withdraw('b');
    await a;
    expect(commits).toEqual([['A']]);
  });

  it('runs no commit when every task withdraws', async () => {
    const { r, commits } = recording(['a', 'b']);
    r.withdraw('a');
    r.withdraw('b');
    await Promise.resolve();
    expect(commits).toEqual([]);
    expect(r.pending).toBe(0);
  });

  it("gives the commit's error to every contributor", async () => {
    const boom = new Error('fenced');
    const { r } = recording(['a', 'b'], boom);
    const results = await Promise.allSettled([r.contribute('a', 'A'), r.contribute('b', 'B')]);
    expect(results).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
  });

  it('refuses a task that was not expected or already contributed, and ignores a late withdrawal', async () => {
    const { r, commits } = recording(['a', 'b']);
    await expect(r.contribute('x', 'X')).rejects.toThrow('task x is not expected');
    const a = r.contribute('a', 'A');
    await expect(r.contribute('a', 'A2')).rejects.toThrow('task a is not expected');
    r.withdraw('a');
    expect(r.pending).toBe(1);
    r.withdraw('b');
    await a;
    expect(commits).toEqual([['A']]);
  });
});
