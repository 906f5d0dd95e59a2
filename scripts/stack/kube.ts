// A real Kubernetes control plane on loopback (the `kube` component, `npm run stack:up -- kube`):
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, which simulates one node so
// that pods are scheduled and reach Running without a kubelet or a container runtime. No container
// ever runs: pod and Service IPs lead nowhere, and everything talks to 127.0.0.1 only.
// Binaries: scripts/tools/kube-tools.sh (pinned in scripts/tools/kube/go.mod, built into ~/.cache).
// Not part of a plain `stack:up`: only the tests of the chart and the Kubernetes runtime need it.
// Every start begins with an empty etcd (a test fixture, not a place to keep things); the PKI and the
// kubeconfig (<home>/kube/kubeconfig, admin in system:masters) are kept.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { StackConfig } from './config';
import { PortTakenError, type ComponentState, type StackComponent } from './component';
import { ensureKubePki, kubePkiPaths, writeKubeconfig, type KubePki } from './kube-pki';
import { commandExists, logTail, pidAlive, portOpen, readPid, waitFor } from './proc';

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS_SCRIPT = path.join(ROOT, 'scripts', 'tools', 'kube-tools.sh');

/** The simulated node; kwok manages only nodes with this annotation. */
export const KWOK_NODE = 'kwok-node-0';
const KWOK_ANNOTATION = 'kwok.x-k8s.io/node';

type Proc = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok';
const PROCS: Proc[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

/** Where the kubeconfig of the local API server is written (admin, client certificate). */
export function kubeconfigPath(config: StackConfig): string {
  return path.join(config.home, 'kube', 'kubeconfig');
}

export class KubeComponent implements StackComponent {
  readonly name = 'kube';
  readonly port: number;
  readonly dataDir: string;
  /** Only started when named (`stack:up -- kube`). */
  readonly optional = true;
  private readonly root: string;
  private bin: string | undefined;

  constructor(private readonly config: StackConfig) {
    this.port = config.kube.apiPort;
    this.root = path.join(config.home, 'kube');
    this.dataDir = path.join(this.root, 'etcd');
  }

  missingPackages(): string[] {
    return commandExists('openssl') ? [] : ['openssl'];
  }

  /** Builds the pinned binaries when missing (minutes cold; the script prints progress). */
  prepare(log: (msg: string) => void): void {
    if (this.bin) return;
    log('checking the pinned Kubernetes tools (scripts/tools/kube-tools.sh; a cold build takes ≈ 22 min)');
    const r = spawnSync('bash', [TOOLS_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`building the Kubernetes tools failed (${TOOLS_SCRIPT})`);
    this.bin = r.stdout.trim().split('\n').pop();
  }

  private pidFile(p: Proc): string {
    return path.join(this.root, 'run', `${p}.pid`);
  }

  private alive(p: Proc): number | undefined {
    const pid = readPid(this.pidFile(p));
    return pidAlive(pid) ? pid : undefined;
  }

  async state(): Promise<ComponentState> {
    const open = await portOpen(this.port);
    if (this.alive('kube-apiserver') === undefined) return open ? 'foreign' : 'down';
    return open && PROCS.every((p) => this.alive(p) !== undefined) ? 'up' : 'down';
  }

  private spawnDaemon(p: Proc, args: string[]): void {
    if (!this.bin) throw new Error('kube: prepare() did not find the tools');
    const out = fs.openSync(this.logFile(p), 'w');
    const child = spawn(path.join(this.bin, p), args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: this.root,
    });
    fs.closeSync(out);
    fs.writeFileSync(this.pidFile(p), `${child.pid}\n`);
    child.unref();
  }

  private logFile(p: Proc): string {
    return path.join(this.root, 'log', `${p}.log`);
  }

  /**
   * Waits until `ready` holds, failing at once when the daemon exits. Prints progress every 15 s and,
   * on failure, the end of the daemon's log (CI shows only this command's output).
   */
  private async waitDaemon(
    p: Proc,
    what: string,
    ready: () => Promise<boolean>,
    timeoutMs: number,
    log: (msg: string) => void,
  ): Promise<void> {
    const t0 = Date.now();
    let reported = t0;
    await waitFor(
      what,
      async () => {
        if (this.alive(p) === undefined) throw new Error(`${p} exited`);
        if (Date.now() - reported >= 15_000) {
          reported = Date.now();
          log(`still waiting for ${what} (${Math.round((reported - t0) / 1000)} s)`);
        }
        return ready();
      },
      timeoutMs,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the end of ${this.logFile(p)}:\n${logTail(this.logFile(p))}`);
    });
  }

  private waitHealthy(
    p: Proc,
    url: string,
    verify: boolean,
    log: (msg: string) => void,
    timeoutMs = 60_000,
  ): Promise<void> {
    return this.waitDaemon(
      p,
      p,
      async () => (await request(url, this.pki(), verify)).status === 200,
      timeoutMs,
      log,
    );
  }

  private pki(): KubePki {
    return kubePkiPaths(path.join(this.root, 'pki'));
  }

  async start(log: (msg: string) => void): Promise<void> {
    const s = await this.state();
    if (s === 'up') return;
    if (s === 'foreign') throw new PortTakenError('kube-apiserver', this.port, 'SLUICE_KUBE_API_PORT');
    await this.stop(); // a partial start (one process died): begin again
    const k = this.config.kube;
    for (const [what, port, env] of [
      ['etcd', k.etcdPort, 'SLUICE_ETCD_PORT'],
      ['etcd peer', k.etcdPeerPort, 'SLUICE_ETCD_PEER_PORT'],
      ['kube-controller-manager', k.controllerManagerPort, 'SLUICE_KUBE_CONTROLLER_MANAGER_PORT'],
      ['kube-scheduler', k.schedulerPort, 'SLUICE_KUBE_SCHEDULER_PORT'],
    ] as const) {
      if (await portOpen(port)) throw new PortTakenError(what, port, env);
    }
    this.prepare(log);
    for (const d of ['run', 'log']) fs.mkdirSync(path.join(this.root, d), { recursive: true });
    const pki = ensureKubePki(path.join(this.root, 'pki'), log);
    const server = `https://127.0.0.1:${this.port}`;
    const kubeconfig = kubeconfigPath(this.config);
    writeKubeconfig(kubeconfig, pki, server);
    fs.rmSync(this.dataDir, { recursive: true, force: true });

    const etcdUrl = `http://127.0.0.1:${k.etcdPort}`;
    const peerUrl = `http://127.0.0.1:${k.etcdPeerPort}`;
    log('starting etcd');
    this.spawnDaemon('etcd', [
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--listen-metrics-urls=',
      '--log-level=warn',
      // The data is thrown away at every start (above). With fsync a cold WAL took more than 30 s
      // to open on one CI machine (CI run of 2d83474: "timed out after 30 s waiting for etcd"),
      // and here single fdatasyncs take over 1 s while tests write; the API server's latency then
      // follows the disk's.
      '--unsafe-no-fsync',
    ]);
    await this.waitDaemon('etcd', 'etcd', () => portOpen(k.etcdPort), 120_000, log);

    log('starting kube-apiserver');
    this.spawnDaemon('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${this.port}`,
      `--tls-cert-file=${pki.apiCert}`,
      `--tls-private-key-file=${pki.apiKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${pki.tokens}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=RBAC',
      // No real endpoints exist behind the "kubernetes" Service on loopback.
      '--endpoint-reconciler-type=none',
    ]);
    await this.waitHealthy('kube-apiserver', `${server}/readyz`, true, log, 120_000);

    log('starting kube-controller-manager, kube-scheduler and kwok');
    this.spawnDaemon('kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${k.controllerManagerPort}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
      // kwok renews the simulated node's heartbeat only every 10–20 min (its stock stage) and
      // otherwise only after the node is marked unhealthy, so with the default 50 s grace the node
      // went NotReady for ~5 s every 55 s (the node controller's log, every minute of a CI run);
      // once in CI a `helm install --wait` then timed out after 5 min while its pods were deleted
      // and recreated. Longer than any test run.
      '--node-monitor-grace-period=2h',
      // Kubernetes 1.37's beta StaleControllerConsistencyStatefulSet makes the StatefulSet
      // controller refuse to sync while its cache is older than its own last write ("read
      // version … is not as new as written version"), requeuing with exponential backoff. An
      // upgrade rewrites the set and replaces both pods within a second, so the errors pile up
      // and the backoff reaches minutes: in CI and once here the controller did nothing for
      // 3 min and the upgrade gave up at 1 of 2 instances (a 30 s informer resync did not help).
      // Off, the controller acts on its cache as every release before 1.35 did.
      '--feature-gates=StaleControllerConsistencyStatefulSet=false',
    ]);
    this.spawnDaemon('kube-scheduler', [
      `--kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${k.schedulerPort}`,
    ]);
    this.spawnDaemon('kwok', [
      `--kubeconfig=${kubeconfig}`,
      `--config=${path.join(this.bin ?? '', 'kwok-stages.yaml')}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION}=fake`,
    ]);
    await this.waitHealthy(
      'kube-controller-manager',
      `https://127.0.0.1:${k.controllerManagerPort}/healthz`,
      false,
      log,
    );
    await this.waitHealthy('kube-scheduler', `https://127.0.0.1:${k.schedulerPort}/healthz`, false, log);

    log(`registering the simulated node ${KWOK_NODE}`);
    const capacity = { cpu: '32', memory: '256Gi', pods: '110' };
    const created = await httpsJson(server, pki, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: KWOK_NODE,
        annotations: { [KWOK_ANNOTATION]: 'fake' },
        labels: { 'kubernetes.io/hostname': KWOK_NODE, 'kubernetes.io/os': 'linux', type: 'kwok' },
      },
      status: { capacity, allocatable: capacity },
    });
    if (created.status !== 201)
      throw new Error(`creating node ${KWOK_NODE}: HTTP ${created.status} ${created.text}`);
    await this.waitDaemon(
      'kwok',
      `node ${KWOK_NODE} Ready (kwok)`,
      async () => {
        const r = await httpsJson(server, pki, 'GET', `/api/v1/nodes/${KWOK_NODE}`);
        const node = r.json as { status?: { conditions?: { type: string; status: string }[] } } | undefined;
        return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      },
      60_000,
      log,
    );
    // Pods need their namespace's ServiceAccount, which the controller-manager creates.
    await waitFor(
      'ServiceAccount default/default',
      async () => {
        return (
          (await httpsJson(server, pki, 'GET', '/api/v1/namespaces/default/serviceaccounts/default'))
            .status === 200
        );
      },
      60_000,
    );
    log(`kubeconfig: ${kubeconfig}`);
  }

  async stop(): Promise<void> {
    for (const p of [...PROCS].reverse()) {
      const pid = this.alive(p);
      if (pid === undefined) continue;
      process.kill(pid, 'SIGTERM');
      await waitFor(`${p} to stop`, async () => !pidAlive(pid), 20_000).catch(() =>
        process.kill(pid, 'SIGKILL'),
      );
    }
  }
}

interface HttpsResult {
  status: number;
  text: string;
  json?: unknown;
}

/**
 * One request to a loopback HTTPS endpoint as the admin (client certificate). `verify`: trust only
 * our CA (the API server); the controller-manager and scheduler serve a self-signed certificate of
 * their own, and only their /healthz is read.
 */
function request(
  url: string,
  pki: KubePki,
  verify: boolean,
  method = 'GET',
  body?: unknown,
): Promise<HttpsResult> {
  return new Promise((resolve) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      url,
      {
        method,
        ca: fs.readFileSync(pki.caCert),
        rejectUnauthorized: verify,
        cert: fs.readFileSync(pki.adminCert),
        key: fs.readFileSync(pki.adminKey),
        headers: payload ? { 'Content-Type': 'application/json' } : {},
        timeout: 5_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(payload);
  });
}

function httpsJson(
  server: string,
  pki: KubePki,
  method: string,
  p: string,
  body?: unknown,
): Promise<HttpsResult> {
  return request(`${server}${p}`, pki, true, method, body);
}
