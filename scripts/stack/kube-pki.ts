// Certificates, keys and the kubeconfig of the local Kubernetes API server (the `kube` component),
// made with openssl once per SLUICE_HOME and reused afterwards: a CA, the API server's serving
// certificate (127.0.0.1 only), an admin client certificate in system:masters, the service-account
// signing key pair and a static token file. Everything stays under <home>/kube/pki.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run } from './proc';

export interface KubePki {
  dir: string;
  caCert: string;
  apiCert: string;
  apiKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
  tokens: string;
}

const DAYS = '3650';

export function kubePkiPaths(dir: string): KubePki {
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    caCert: f('ca.crt'),
    apiCert: f('api.crt'),
    apiKey: f('api.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
    tokens: f('tokens.csv'),
  };
}

/** A key and a certificate signed by the CA, with the given subject and X.509 extensions. */
function signed(dir: string, name: string, subject: string, extensions: string): void {
  const f = (ext: string) => path.join(dir, `${name}.${ext}`);
  run('openssl', [
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'rsa:2048',
    '-keyout',
    f('key'),
    '-out',
    f('csr'),
    '-subj',
    subject,
  ]);
  fs.writeFileSync(f('ext'), extensions);
  run('openssl', [
    'x509',
    '-req',
    '-in',
    f('csr'),
    '-CA',
    path.join(dir, 'ca.crt'),
    '-CAkey',
    path.join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    f('crt'),
    '-days',
    DAYS,
    '-extfile',
    f('ext'),
  ]);
  fs.rmSync(f('csr'));
  fs.rmSync(f('ext'));
}

/** Creates what is missing (all of it on the first run); returns the paths. */
export function ensureKubePki(dir: string, log: (msg: string) => void): KubePki {
  const pki = kubePkiPaths(dir);
  if (Object.values(pki).every((p) => fs.existsSync(p))) return pki;
  log('generating PKI (CA, API server and admin certificates, service-account keys)');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  run('openssl', [
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'rsa:2048',
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    pki.caCert,
    '-days',
    DAYS,
    '-subj',
    '/CN=sluice-local-kube-ca',
  ]);
  signed(
    dir,
    'api',
    '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  signed(dir, 'admin', '/O=system:masters/CN=admin', 'extendedKeyUsage=clientAuth\n');
  run('openssl', ['genrsa', '-out', pki.saKey, '2048']);
  run('openssl', ['rsa', '-in', pki.saKey, '-pubout', '-out', pki.saPub]);
  // A static bearer token for tools that want one (curl); the kubeconfig uses the admin certificate.
  fs.writeFileSync(pki.tokens, `${randomBytes(24).toString('hex')},admin,admin,"system:masters"\n`, {
    mode: 0o600,
  });
  return pki;
}

/** A kubeconfig for the admin user (client certificate) with the certificates inlined. */
export function writeKubeconfig(file: string, pki: KubePki, server: string): void {
  const b64 = (p: string) => fs.readFileSync(p).toString('base64');
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sluice-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    'contexts:',
    '- name: sluice-local',
    '  context: { cluster: sluice-local, user: admin, namespace: default }',
    'current-context: sluice-local',
    '',
  ].join('\n');
  fs.writeFileSync(file, text, { mode: 0o600 });
}
