// Installs Debian packages the stack needs when they are missing. We only want the binaries:
// a temporary policy-rc.d stops the packages from starting their system-wide services, and
// PostgreSQL's default "main" cluster is not created, because Sluice runs its own clusters.
import fs from 'node:fs';
import { isRoot, run } from './proc';

let updated = false;

export function aptInstall(packages: string[], why: string): void {
  if (!isRoot()) {
    throw new Error(
      `${why} is not installed and installing it needs root. Run as root, or install: apt-get install ${packages.join(' ')}`,
    );
  }
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const createCluster = '/etc/postgresql-common/createcluster.conf';
  if (!fs.existsSync(createCluster)) {
    fs.mkdirSync('/etc/postgresql-common', { recursive: true });
    fs.writeFileSync(createCluster, 'create_main_cluster = false\n');
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!updated) {
      run('apt-get', ['update', '-q'], { env });
      updated = true;
    }
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env });
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
}
