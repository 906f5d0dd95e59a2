#!/usr/bin/env bash
# `npm run demo`: install what is missing, start the stack and the control plane, print the URLs.
# The dashboard (apps/dashboard) is built and started beside them, in the background and at low CPU
# priority so that it does not slow the stack's start; Ctrl-C (or the demo ending) stops it too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

dash_port="${SLUICE_DASHBOARD_PORT:-4401}"
api_url="http://127.0.0.1:${SLUICE_API_PORT:-4400}"
mkdir -p .sluice
dash_log=.sluice/dashboard.log
# Its own process group (setsid), so that stopping it takes its build or server with it.
setsid bash -c '
  set -u
  next=node_modules/next/dist/bin/next
  export NEXT_TELEMETRY_DISABLED=1
  if ! (cd apps/dashboard && nice -n 10 node ../../$next build) > "$1" 2>&1; then
    echo "[demo] the dashboard did not build (log: $1); the API works without it" >&2
    exit 1
  fi
  SLUICE_API_URL="$2" node $next start apps/dashboard -p "$3" -H 127.0.0.1 >> "$1" 2>&1 &
  for _ in $(seq 1 120); do
    if node -e "fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" \
      "http://127.0.0.1:$3/api/health"; then
      echo "[demo] dashboard: http://127.0.0.1:$3 (log in with the API token printed by the demo)"
      break
    fi
    sleep 1
  done
  wait
' dashboard "$dash_log" "$api_url" "$dash_port" &
dash_pid=$!
echo "[demo] building and starting the dashboard in the background (log: $dash_log)"
trap 'kill -TERM -- "-$dash_pid" 2> /dev/null || true' EXIT

npx tsx scripts/demo.ts
