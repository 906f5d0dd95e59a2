#!/bin/sh
# One image, three programs: `control-plane` (the API and loops), `migrate` (database migrations,
# the Helm chart's hook Job) and, for any other arguments, the engine CLI — the Kubernetes runtime
# starts engine pods with `args: [run, --spec, …]` and no command.
set -eu
cd /app
case "${1:-control-plane}" in
  control-plane) shift || true; exec node -r @swc-node/register apps/control-plane/src/main.ts "$@" ;;
  migrate) shift; exec node --import tsx prisma/migrate.ts apply "$@" ;;
  # The bundle the image's build made (scripts/build-engine-bundle.ts); tsx if it is missing.
  # SLUICE_ENGINE_NODE_FLAGS: node flags the control plane sets in the pod for the query's spec
  # (an lmdb query's bound on V8's heap growth, @sluice/query-plan engine-node-flags.ts), on node's
  # command line; dropped, with a line on stderr, when this node refuses them (an option its V8
  # does not know stops node before the engine starts).
  *) flags="${SLUICE_ENGINE_NODE_FLAGS:-}"
     # shellcheck disable=SC2086 # the flags are separate words (no spaces inside a flag)
     if [ -n "$flags" ] && ! node $flags -e '' 2>/dev/null; then
       echo "sluice-entrypoint: node refuses SLUICE_ENGINE_NODE_FLAGS ($flags); starting without them" >&2
       flags=
     fi
     # shellcheck disable=SC2086
     if [ -f dist/engine.js ]; then exec node $flags dist/engine.js "$@"; fi
     # shellcheck disable=SC2086
     exec node $flags --import tsx apps/engine/src/cli.ts "$@" ;;
esac
