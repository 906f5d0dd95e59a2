// The Grafana dashboards (grafana/*.json) as Grafana will import them: unique uids, panels inside
// the 24-column grid without overlapping, every query on the dashboard's Prometheus variable, links
// that point at dashboards that exist. (Which metrics the queries name is checked against a real
// control plane in apps/control-plane/test/exported-metric-names.int.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

interface Target {
  expr?: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
  links: { url: string }[];
}

const DIR = path.resolve(__dirname, '../../grafana');
const dashboards = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) as Dashboard] as const);
const PROMETHEUS = { type: 'prometheus', uid: '${datasource}' };

describe('Grafana dashboards', () => {
  it('are the overview and the per-query dashboard, with distinct uids', () => {
    expect(dashboards.map(([, d]) => d.uid).sort()).toEqual(['sluice-overview', 'sluice-query']);
  });

  it.each(dashboards)('%s: panels fit the grid without overlapping and have unique ids', (_f, d) => {
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
    }
  });

  it.each(dashboards)('%s: every query runs on the Prometheus chosen in the datasource variable', (_f, d) => {
    expect(d.templating.list).toContainEqual(
      expect.objectContaining({ name: 'datasource', type: 'datasource' }),
    );
    for (const p of d.panels) {
      expect(p.datasource, p.title).toEqual(PROMETHEUS);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size, p.title).toBe(p.targets!.length);
      for (const t of p.targets!) {
        expect(t.datasource, p.title).toEqual(PROMETHEUS);
        expect(t.expr?.trim(), p.title).toBeTruthy();
      }
    }
  });

  it.each(dashboards)('%s: links point at dashboards that exist', (_f, d) => {
    const uids = new Set(dashboards.map(([, x]) => x.uid));
    for (const l of d.links) expect(uids, l.url).toContain(/^\/d\/([^/]+)\//.exec(l.url)?.[1]);
  });
});
