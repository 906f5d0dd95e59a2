// The control plane's folders must form layers: no folder may depend, directly or through others,
// on a folder that depends on it. A circle makes modules hard to test alone and lets Nest's
// injection order decide what works. Files at the top of src/ (app.module, app.factory, main, the
// OpenAPI components) are the composition root: they may import any folder and nothing imports them.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = __dirname;

/** folder → folder → one file whose import makes that edge (to name it in a failure). */
function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const visit = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated') visit(file);
        continue;
      }
      if (!entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts')) continue;
      const from = path.relative(SRC, file).split(path.sep);
      if (from.length < 2) continue; // composition root
      for (const imported of ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles) {
        if (!imported.fileName.startsWith('.')) continue;
        const to = path.relative(SRC, path.resolve(path.dirname(file), imported.fileName)).split(path.sep);
        if (to.length < 2 || to[0] === '..' || to[0] === from[0]) continue;
        const edges = graph.get(from[0]!) ?? new Map<string, string>();
        if (!edges.has(to[0]!)) edges.set(to[0]!, path.relative(SRC, file));
        graph.set(from[0]!, edges);
      }
    }
  };
  visit(SRC);
  return graph;
}

/** Strongly connected components with more than one folder (Tarjan's algorithm). */
function circles(graph: Map<string, Map<string, string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const strongConnect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) strongConnect(v);
  return found;
}

describe('control-plane folders', () => {
  it('import each other without circles', () => {
    const graph = folderGraph();
    const described = circles(graph).map((component) =>
      component
        .flatMap((a) =>
          [...(graph.get(a) ?? [])]
            .filter(([b]) => component.includes(b))
            .map(([b, file]) => `${a} → ${b} (${file})`),
        )
        .join('; '),
    );
    expect(described).toEqual([]);
  });

  it('finds a circle when there is one (the check itself works)', () => {
    const graph = new Map([
      ['a', new Map([['b', 'a/x.ts']])],
      ['b', new Map([['c', 'b/y.ts']])],
      ['c', new Map([['a', 'c/z.ts']])],
      ['d', new Map([['a', 'd/w.ts']])],
    ]);
    expect(circles(graph)).toEqual([['a', 'b', 'c']]);
  });
});
