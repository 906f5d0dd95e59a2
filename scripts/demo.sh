#!/usr/bin/env bash
# `npm run demo`: install what is missing, start the stack and the control plane, print the URLs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec npx tsx scripts/demo.ts
