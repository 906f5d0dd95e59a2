#!/usr/bin/env bash
# Builds the pinned Kubernetes control plane for the `kube` stack component: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok (simulated nodes), from the Go module proxy, into a
# cache outside the clone: ${SLUICE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/tools}/kube-<k8s version>/bin.
# The pins are the Go module scripts/tools/kube (go.mod `tool` block + go.sum): nothing else names a
# version. Rebuilt only when a binary is missing or go.mod/go.sum changed (a stamp holds their hash).
# `go install` cannot build kube-apiserver (k8s.io/kubernetes has replace directives), so the module
# carries them (k8s.io/* v0.0.0 => v0.<minor>.<patch>) and `go build ... tool` builds every tool.
# Cold: ≈ 30 CPU-min, ≈ 22 min wall on 2 idle cores; warm (binaries present): well under a second.
# Also writes kwok-stages.yaml (kwok's own "fast" stages, from the pinned kwok module) beside the binaries.
# Usage: kube-tools.sh   (prints the bin directory on the last line; progress on stderr)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mod="$here/kube"
command -v go > /dev/null || { echo "kube-tools: Go is not installed (needed to build the Kubernetes tools)" >&2; exit 1; }
k8s=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3; exit }' "$mod/go.mod")
[[ "$k8s" =~ ^v1\.([0-9]+)\.[0-9]+$ ]] || { echo "kube-tools: no k8s.io/kubernetes v1.x pin in $mod/go.mod" >&2; exit 1; }
minor=${BASH_REMATCH[1]}
out="${SLUICE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/tools}/kube-${k8s#v}"
bin="$out/bin"
mkdir -p "$out"
exec 9> "$out/.lock"
flock 9

tools=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
want=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -d' ' -f1)
built=1
for t in "${tools[@]}"; do [[ -x "$bin/$t" ]] || built=0; done
if (( built )) && [[ -f "$bin/kwok-stages.yaml" && "$(cat "$bin/.stamp" 2> /dev/null)" == "$want" ]]; then
  echo "kube-tools: Kubernetes $k8s tools already built" >&2
  echo "$bin"
  exit 0
fi

echo "kube-tools: building Kubernetes $k8s (apiserver, controller-manager, scheduler), etcd and kwok; cold ≈ 30 CPU-min..." >&2
t0=$(date +%s)
( while sleep 60; do echo "kube-tools: still building ($(( $(date +%s) - t0 )) s)" >&2; done ) &
ticker=$!
trap 'kill "$ticker" 2> /dev/null || true' EXIT
staging="$out/bin.new"
rm -rf "$staging"
mkdir -p "$staging"
X=k8s.io/component-base/version
(
  cd "$mod"
  export GOFLAGS=-buildvcs=false CGO_ENABLED=0
  nice -n 10 go build -trimpath \
    -ldflags="-s -w -X $X.gitVersion=$k8s -X $X.gitMajor=1 -X $X.gitMinor=$minor" \
    -o "$staging/" tool
  mv "$staging/server" "$staging/etcd" # go.etcd.io/etcd/server/v3 builds a binary named "server"
  # kwok's stock stages: nodes become Ready with a heartbeat Lease, pods go Running, Job pods complete,
  # deleted pods go away. Taken from the pinned kwok module, so they match the binary.
  stages="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage"
  first=1
  for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    (( first )) || echo '---'
    first=0
    cat "$stages/$f.yaml"
  done > "$staging/kwok-stages.yaml"
)
echo "$want" > "$staging/.stamp"
rm -rf "$bin"
mv "$staging" "$bin"
echo "kube-tools: built Kubernetes $k8s tools in $(( $(date +%s) - t0 )) s" >&2
echo "$bin"
