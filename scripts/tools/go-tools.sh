#!/usr/bin/env bash
# Builds the pinned Go tools (go-tools.tsv) from the Go module proxy into a cache outside the clone
# (${SLUICE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/tools}/bin), so later clones on the same
# machine reuse them. A tool is rebuilt only when its binary is missing or `go version -m` reports
# another module version than the pin. `go install pkg@version` is reproducible: the module proxy's
# go.sum pins every dependency. Builds are niced and serial (the machine has 2 cores, shared).
# Usage: go-tools.sh [name...]   (default: every tool); prints the bin directory on the last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${SLUICE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/tools}/bin"
mkdir -p "$bin"
command -v go > /dev/null || { echo "go-tools: Go is not installed (needed to build helm, helm-docs, promtool)" >&2; exit 1; }
# One build at a time per cache (a second caller waits, then finds the tool built).
exec 9> "$bin/.lock"
flock 9

wanted=("$@")
while IFS=$'\t' read -r name pkg version; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if (( ${#wanted[@]} )) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  module_of() { go version -m "$bin/$name" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'; }
  if [[ -x "$bin/$name" && "$(module_of)" == "$version" ]]; then
    echo "go-tools: $name $version already built" >&2
    continue
  fi
  echo "go-tools: building $name $version (go install $pkg@$version; first build takes minutes)..." >&2
  t0=$(date +%s)
  # Progress while building: the Go toolchain is silent for minutes otherwise.
  ( while sleep 60; do echo "go-tools: still building $name ($(( $(date +%s) - t0 )) s)" >&2; done ) &
  ticker=$!
  status=0
  GOBIN="$bin" GOFLAGS="${GOFLAGS:-} -buildvcs=false" nice -n 15 go install "$pkg@$version" >&2 || status=$?
  kill "$ticker" 2> /dev/null || true
  wait "$ticker" 2> /dev/null || true
  (( status == 0 )) || { echo "go-tools: building $name failed" >&2; exit "$status"; }
  echo "go-tools: built $name $version in $(( $(date +%s) - t0 )) s" >&2
done < "$here/go-tools.tsv"
echo "$bin"
