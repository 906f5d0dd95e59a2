import { SchedulerRegistry } from '@nestjs/schedule';
import { describe, expect, it } from 'vitest';
import { loadAppConfig } from '../config/app-config';
import type { ProgressRepository } from '../repositories/progress.repository';
import type { QueryRepository } from '../repositories/query.repository';
import { ProgressRetention, QUERIES_PER_PASS } from './progress-retention.service';

const config = loadAppConfig({ ...process.env, SLUICE_CLUSTER_NAME: 'c1', SLUICE_PROGRESS_RETENTION: '100' });

/** Queries q000… of cluster c1, paged as the repository does (ids after the cursor, in order). */
function queries(n: number): Pick<QueryRepository, 'pageIds'> & { pages: Array<string | null> } {
  const ids = Array.from({ length: n }, (_, i) => `q${String(i).padStart(3, '0')}`);
  const pages: Array<string | null> = [];
  return {
    pages,
    async pageIds(cluster, afterId, limit) {
      expect(cluster).toBe('c1');
      pages.push(afterId);
      return ids.filter((id) => afterId === null || id > afterId).slice(0, limit);
    },
  };
}

describe('ProgressRetention.pass', () => {
  it('a failing query is counted and the others are still trimmed', async () => {
    const trimmed: string[] = [];
    const progress: Pick<ProgressRepository, 'trimToNewest'> = {
      async trimToNewest(id, keep) {
        expect(keep).toBe(100);
        if (id === 'q001') throw new Error('deadlock detected');
        trimmed.push(id);
        return 5;
      },
    };
    const r = new ProgressRetention(
      progress,
      queries(3),
      config,
      { isLeader: true },
      new SchedulerRegistry(),
    );
    expect(await r.pass()).toEqual({ queries: 3, deleted: 10, failed: 1 });
    expect(trimmed).toEqual(['q000', 'q002']);
  });

  it('pages through the queries round-robin, QUERIES_PER_PASS a pass, then starts over', async () => {
    const q = queries(QUERIES_PER_PASS + 5);
    const progress: Pick<ProgressRepository, 'trimToNewest'> = { trimToNewest: async () => 0 };
    const r = new ProgressRetention(progress, q, config, { isLeader: true }, new SchedulerRegistry());
    expect((await r.pass()).queries).toBe(QUERIES_PER_PASS);
    expect((await r.pass()).queries).toBe(5);
    expect((await r.pass()).queries).toBe(QUERIES_PER_PASS);
    const last = `q${String(QUERIES_PER_PASS - 1).padStart(3, '0')}`;
    expect(q.pages).toEqual([null, last, null]);
  });

  it('a failing listing is reported as an empty pass, not thrown', async () => {
    const failing: Pick<QueryRepository, 'pageIds'> = {
      pageIds: async () => {
        throw new Error('connection refused');
      },
    };
    const r = new ProgressRetention(
      { trimToNewest: async () => 0 },
      failing,
      config,
      { isLeader: true },
      new SchedulerRegistry(),
    );
    expect(await r.pass()).toEqual({ queries: 0, deleted: 0, failed: 0 });
  });
});
