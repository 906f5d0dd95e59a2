// The local Kubernetes API server for tests (the stack's `kube` component): started on first use
// (building the pinned tools when they are missing: ≈ 22 min cold), then reused by later files.
// `kubeFetch` is a raw client of the API server as the admin, optionally impersonating another user,
// so a test can send exactly the request it means (dryRun, fieldValidation, access reviews).
// Pods there are simulated by kwok: nothing runs in them, nothing may connect to pod or service IPs.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { loadStackConfig } from '../stack/config';
import { kubeconfigPath } from '../stack/kube';
import { kubePkiPaths } from '../stack/kube-pki';
import { stackUp } from '../stack/stack';

export interface KubeCluster {
  kubeconfig: string;
  server: string;
  /** One request as the admin; `as` impersonates a user (e.g. `system:serviceaccount:ns:name`). */
  kubeFetch<T = unknown>(
    method: string,
    urlPath: string,
    body?: unknown,
    opts?: { as?: string; contentType?: string },
  ): Promise<{ status: number; body: T }>;
}

export async function startKube(): Promise<KubeCluster> {
  const config = loadStackConfig();
  await stackUp((m) => process.stderr.write(`[stack] ${m}\n`), config, ['kube']);
  const pki = kubePkiPaths(path.join(config.home, 'kube', 'pki'));
  const server = `https://127.0.0.1:${config.kube.apiPort}`;
  const tls = {
    ca: fs.readFileSync(pki.caCert),
    cert: fs.readFileSync(pki.adminCert),
    key: fs.readFileSync(pki.adminKey),
  };
  const kubeFetch: KubeCluster['kubeFetch'] = (method, urlPath, body, opts = {}) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (payload !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
      if (opts.as) headers['Impersonate-User'] = opts.as;
      const req = https.request(`${server}${urlPath}`, { method, headers, ...tls }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as never });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  return { kubeconfig: kubeconfigPath(config), server, kubeFetch };
}
