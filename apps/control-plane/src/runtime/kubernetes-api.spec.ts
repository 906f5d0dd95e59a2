// ClientNodeKubernetesApi against an in-process HTTP stub (not an API server): checks the
// requests @kubernetes/client-node v1.x sends for our calls — paths, verbs, bodies, patch type.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClientNodeKubernetesApi } from './kubernetes-api';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: unknown;
}

const seen: Seen[] = [];
/** Responses by `METHOD path` (without query); anything else answers 404 like the API server. */
const routes = new Map<string, unknown>();
let server: http.Server;
let api: ClientNodeKubernetesApi;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        body: raw ? JSON.parse(raw) : undefined,
      });
      const answer = routes.get(`${req.method} ${(req.url ?? '').split('?')[0]}`);
      res.setHeader('content-type', 'application/json');
      if (answer === undefined) {
        res.statusCode = 404;
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'NotFound',
            code: 404,
          }),
        );
      } else {
        res.end(JSON.stringify(answer));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'stub',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'stub' }],
    contexts: [{ name: 'stub', cluster: 'stub', user: 'stub' }],
    currentContext: 'stub',
  });
  api = new ClientNodeKubernetesApi(kc);
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen.length = 0;
  routes.clear();
});

const calls = () => seen.map((s) => `${s.method} ${s.url}`);
const cm = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'sluice-q-v1', namespace: 'ns' },
  data: { 'spec.yaml': 'x' },
};

describe('ClientNodeKubernetesApi', () => {
  it('creates an object the server does not have', async () => {
    routes.set('POST /api/v1/namespaces/ns/configmaps', cm);
    await api.applyConfigMap(cm);
    expect(calls()).toEqual([
      'GET /api/v1/namespaces/ns/configmaps/sluice-q-v1',
      'POST /api/v1/namespaces/ns/configmaps',
    ]);
    expect(seen[1]?.body).toMatchObject(cm);
  });

  it('replaces an existing object with its current resourceVersion', async () => {
    const path = '/api/v1/namespaces/ns/services/sluice-q';
    routes.set(`GET ${path}`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sluice-q', namespace: 'ns', resourceVersion: '41' },
    });
    routes.set(`PUT ${path}`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sluice-q', namespace: 'ns', resourceVersion: '42' },
    });
    await api.applyService({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'sluice-q', namespace: 'ns' },
      spec: { clusterIP: 'None' },
    });
    expect(calls()).toEqual([`GET ${path}`, `PUT ${path}`]);
    expect(seen[1]?.body).toMatchObject({ metadata: { resourceVersion: '41' }, spec: { clusterIP: 'None' } });
  });

  it('keeps a resourceVersion the caller read itself (conflict instead of overwrite)', async () => {
    const path = '/apis/apps/v1/namespaces/ns/statefulsets/sluice-q';
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'sluice-q', namespace: 'ns', resourceVersion: '7' },
    };
    routes.set(`GET ${path}`, { ...sts, metadata: { ...sts.metadata, resourceVersion: '9' } });
    routes.set(`PUT ${path}`, sts);
    await api.applyStatefulSet(sts);
    expect(seen[1]?.body).toMatchObject({ metadata: { resourceVersion: '7' } });
  });

  it('reads a missing StatefulSet as null', async () => {
    expect(await api.getStatefulSet('ns', 'sluice-q')).toBeNull();
  });

  it('scales through a merge patch of the scale subresource', async () => {
    const path = '/apis/apps/v1/namespaces/ns/statefulsets/sluice-q/scale';
    routes.set(`PATCH ${path}`, {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'sluice-q', namespace: 'ns' },
      spec: { replicas: 2 },
    });
    await api.scaleStatefulSet('ns', 'sluice-q', 2, '9');
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: path,
      contentType: 'application/merge-patch+json',
      body: { metadata: { resourceVersion: '9' }, spec: { replicas: 2 } },
    });
  });

  it('lists pods by label selector', async () => {
    routes.set('GET /api/v1/namespaces/ns/pods', {
      apiVersion: 'v1',
      kind: 'PodList',
      metadata: {},
      items: [{ metadata: { name: 'sluice-q-0' } }],
    });
    const pods = await api.listPods('ns', 'sluice.dev/query-id=abc');
    expect(pods.map((p) => p.metadata?.name)).toEqual(['sluice-q-0']);
    expect(new URL(seen[0]?.url ?? '', 'http://x').searchParams.get('labelSelector')).toBe(
      'sluice.dev/query-id=abc',
    );
  });

  it('deletes a pod with the given grace period and ignores one that is gone', async () => {
    routes.set('DELETE /api/v1/namespaces/ns/pods/sluice-q-1', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sluice-q-1' },
    });
    await api.deletePod('ns', 'sluice-q-1', 0);
    await api.deletePod('ns', 'sluice-q-2');
    expect(calls()).toEqual([
      'DELETE /api/v1/namespaces/ns/pods/sluice-q-1?gracePeriodSeconds=0',
      'DELETE /api/v1/namespaces/ns/pods/sluice-q-2',
    ]);
  });

  it("removes a query's StatefulSet (pods in the background), Service and ConfigMaps, ignoring ones that are gone", async () => {
    routes.set('DELETE /apis/apps/v1/namespaces/ns/statefulsets/sluice-q', {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Success',
    });
    routes.set('DELETE /api/v1/namespaces/ns/configmaps', {
      kind: 'ConfigMapList',
      apiVersion: 'v1',
      items: [],
    });
    await api.deleteStatefulSet('ns', 'sluice-q');
    await api.deleteService('ns', 'sluice-q');
    await api.deleteConfigMaps('ns', 'sluice.dev/query-id=abc');
    expect(calls().map((c) => c.split('?')[0])).toEqual([
      'DELETE /apis/apps/v1/namespaces/ns/statefulsets/sluice-q',
      'DELETE /api/v1/namespaces/ns/services/sluice-q',
      'DELETE /api/v1/namespaces/ns/configmaps',
    ]);
    expect(new URL(seen[0]?.url ?? '', 'http://x').searchParams.get('propagationPolicy')).toBe('Background');
    expect(new URL(seen[2]?.url ?? '', 'http://x').searchParams.get('labelSelector')).toBe(
      'sluice.dev/query-id=abc',
    );
  });

  it("applies a query's sink Secret and deletes the query's Secrets by label", async () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sluice-q-sink', namespace: 'ns' },
      type: 'Opaque',
      stringData: { url: 'postgresql://s@db/sinks' },
    };
    routes.set('POST /api/v1/namespaces/ns/secrets', secret);
    routes.set('DELETE /api/v1/namespaces/ns/secrets', { kind: 'SecretList', apiVersion: 'v1', items: [] });
    await api.applySecret(secret);
    await api.deleteSecrets('ns', 'sluice.dev/query-id=abc');
    expect(calls().map((c) => c.split('?')[0])).toEqual([
      'GET /api/v1/namespaces/ns/secrets/sluice-q-sink',
      'POST /api/v1/namespaces/ns/secrets',
      'DELETE /api/v1/namespaces/ns/secrets',
    ]);
    expect(seen[1]?.body).toMatchObject({ stringData: { url: 'postgresql://s@db/sinks' } });
    expect(new URL(seen[2]?.url ?? '', 'http://x').searchParams.get('labelSelector')).toBe(
      'sluice.dev/query-id=abc',
    );
  });
});
