#!/usr/bin/env bash
# `npm test`: install what is missing, start the local stack if needed, run every check: format
# (Prettier), lint (with Nx module boundaries), type-check, unit tests, then integration tests against the
# real PostgreSQL, Redis and Kafka (one file at a time: they share the stack). Schemathesis (against the
# OpenAPI document of a real control plane, scripts/schemathesis/) runs before the tests. Every vitest
# project (unit, integration, the dashboard's browser tests in e2e/) runs in ONE final vitest run, without
# colours, so that the output ends with a single plain summary counting every test: CI reads the tests it
# ran from the runner's closing summary (a colour-coded one, or one followed by other lines, was read as
# "no test executed").
set -euo pipefail
cd "$(dirname "$0")/.."
export KAFKAJS_NO_PARTITIONER_WARNING=1
t0=$(date +%s)

bash scripts/ensure-deps.sh
npm run -s stack:up
npm run -s db:migrate

echo "== format"
npx prettier --check . > /dev/null || { npx prettier --list-different .; echo "files above are not formatted: npm run format"; exit 1; }
echo "== lint"
npx nx show projects > /dev/null   # computes the project graph that module-boundary linting needs
npx eslint . --max-warnings=0
echo "== typecheck"
npx tsc -p tsconfig.json
npx tsc -p apps/dashboard/tsconfig.json   # Next/React settings of its own (jsx, bundler resolution)
echo "== API fuzzing (schemathesis)"
npx tsx scripts/schemathesis/cli.ts
echo "== Go tools for the packaging tests (helm, helm-docs, promtool: built once per machine, minutes when cold)"
bash scripts/tools/go-tools.sh > /dev/null
echo "== Kubernetes API server for the chart and runtime tests (etcd, kube-apiserver, controller-manager, scheduler, kwok; built once per machine: ≈ 22 min cold on idle cores)"
bash scripts/tools/kube-tools.sh > /dev/null
npm run -s stack:up -- kube
echo "== checks took $(( $(date +%s) - t0 )) s; now every test: unit, integration and browser (one file at a time)"
# NO_COLOR: vitest colours its output whenever CI is set; CI=true here.
NO_COLOR=1 npx vitest run --project '*-unit' --project '*-int' --project e2e --no-file-parallelism
