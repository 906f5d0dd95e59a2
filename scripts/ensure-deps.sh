#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than package-lock.json, and
# generates the Prisma client (offline). Safe to run repeatedly; fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error(`Sluice needs Node.js >= 20.19 (found ${process.versions.node})`); process.exit(1) }'

stamp=node_modules/.sluice-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[deps] installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# Fixes to dependencies that upstream has not released (patches/, applied with patch-package, in
# the order of their sequence numbers): kafkajs 2.2.4 lets aborted transactions through to
# read_committed consumers when several transactional producers write one partition (001), and
# looks up the transaction and group coordinators before every transactional request (002).
# A new fix goes into a new sequence number: patch-package then applies it on top of an
# install that has the earlier ones (an edited, already applied patch needs a reinstall).
patch_stamp=node_modules/.sluice-patches.sha256
patch_want=$( (cat package-lock.json; cat patches/*.patch) | sha256sum | cut -d' ' -f1)
if [ ! -f "$patch_stamp" ] || [ "$(cat "$patch_stamp")" != "$patch_want" ]; then
  echo "[deps] applying dependency patches (patch-package)"
  npx patch-package --error-on-fail > /dev/null
  echo "$patch_want" > "$patch_stamp"
fi

# Debian's Chromium for the dashboard's browser tests and bench:dashboard (playwright-core drives
# it; no browser is ever downloaded by npm). Installed like the stack's Debian packages: as root,
# without starting services.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "[deps] installing Debian's chromium (dashboard browser tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q > /dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends chromium > /dev/null
  else
    echo "[deps] /usr/bin/chromium is missing and installing it needs root: apt-get install chromium" >&2
  fi
fi

# Debian's zsh: the CLI's zsh completion is tested in a real interactive zsh (cli-unit), as the
# bash one is in bash. Installed the same way as chromium.
if ! command -v zsh > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "[deps] installing Debian's zsh (CLI completion tests)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -q > /dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends zsh > /dev/null
  else
    echo "[deps] zsh is missing and installing it needs root: apt-get install zsh" >&2
  fi
fi

schema_hash=$(sha256sum prisma/schema.prisma | cut -d' ' -f1)
client_stamp=apps/control-plane/src/generated/.schema.sha256
if [ ! -f "$client_stamp" ] || [ "$(cat "$client_stamp")" != "$schema_hash" ]; then
  echo "[deps] generating the Prisma client"
  npx tsx prisma/generate.ts > /dev/null
  echo "$schema_hash" > "$client_stamp"
fi
