// What the Kubernetes runtime asks of the API server, read from its source: the chart's RBAC must
// grant exactly this (chart.int.ts) and the API server must allow it to the chart's ServiceAccount
// (chart-cluster.int.ts).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './tools';

/**
 * The permissions the runtime needs, read from the calls kubernetes-api.ts makes on
 * @kubernetes/client-node (`this.core.readNamespacedConfigMap` → configmaps get), so a new call
 * there fails this test until the chart grants it.
 */
export function permissionsFromRuntimeSource(): Map<string, Set<string>> {
  const source = fs.readFileSync(path.join(ROOT, 'apps/control-plane/src/runtime/kubernetes-api.ts'), 'utf8');
  const verbs: Record<string, string> = {
    read: 'get',
    create: 'create',
    replace: 'update',
    delete: 'delete',
    deleteCollection: 'deletecollection',
    list: 'list',
    patch: 'patch',
  };
  const resources: Record<string, string> = {
    ConfigMap: 'configmaps',
    Secret: 'secrets',
    Service: 'services',
    Pod: 'pods',
    PodResize: 'pods/resize',
    StatefulSet: 'statefulsets',
    StatefulSetScale: 'statefulsets/scale',
  };
  const out = new Map<string, Set<string>>();
  const calls = [
    ...source.matchAll(
      /this\.(core|apps)\.(read|create|replace|deleteCollection|delete|list|patch)Namespaced(\w+?)\(/g,
    ),
  ];
  expect(calls.length).toBeGreaterThan(10);
  for (const [, api, verb, kind] of calls) {
    const resource = resources[kind!];
    expect(resource, `unknown resource of ${verb}Namespaced${kind}`).toBeDefined();
    const key = `${api === 'core' ? '' : 'apps'}/${resource}`;
    out.set(key, (out.get(key) ?? new Set()).add(verbs[verb!]!));
  }
  return out;
}
