#!/usr/bin/env bash
# Regenerates helm/sluice/README.md (or the README of the chart directory given) with the pinned
# helm-docs: the values table from values.yaml's `# --` comments, the rest from README.md.gotmpl.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
chart="${1:-$root/helm/sluice}"
bin="$(bash "$root/scripts/tools/go-tools.sh" helm-docs | tail -1)"
cd "$chart"
"$bin/helm-docs" --chart-search-root . --template-files README.md.gotmpl --output-file README.md \
  --sort-values-order file --log-level warning
