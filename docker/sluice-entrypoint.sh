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
  *) if [ -f dist/engine.js ]; then exec node dist/engine.js "$@"; fi
     exec node --import tsx apps/engine/src/cli.ts "$@" ;;
esac
