#!/usr/bin/env bash
# Measures the time from `k8rs server` start to node Ready (fresh data dir and restart),
# and the idle resident memory of the k8rs process (containerd is a separate process and
# is not counted). Uses the release build and loopback addresses only.
# Usage: scripts/bench-startup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bin=./target/release/k8rs
images=target/images
kubectl=$(command -v kubectl.1.33 || echo /usr/lib/google-cloud-sdk/bin/kubectl.1.33)
[ -x "$bin" ] && ls $images/*.tar >/dev/null || { echo "run 'make build images' first" >&2; exit 1; }

ready_ms() { # data dir -> prints ms from launch to node Ready
  local dir=$1 start now
  start=$(date +%s%N)
  "$bin" server --data-dir "$dir" --https-port 26443 --node-ip 127.0.0.2 --node-name bench-node --kubelet-port 30250 >"$dir/server.log" 2>&1 &
  echo $! >"$dir/pid"
  until [ -f "$dir/kubeconfig.yaml" ] && [ "$(KUBECONFIG="$dir/kubeconfig.yaml" "$kubectl" get node bench-node \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
    sleep 0.05
  done
  now=$(date +%s%N)
  echo $(( (now - start) / 1000000 ))
}

stop() { kill -INT "$(cat "$1/pid")"; while kill -0 "$(cat "$1/pid")" 2>/dev/null; do sleep 0.1; done; }

for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d /tmp/k8rs-bench-XXXX)
  mkdir -p "$dir/agent/images" && cp $images/*.tar "$dir/agent/images/"
  fresh=$(ready_ms "$dir")
  stop "$dir"
  restart=$(ready_ms "$dir")
  if [ "$i" -eq "$runs" ]; then
    sleep 30
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$(cat "$dir/pid")/status")
    echo "idle RSS after 30 s: $((rss / 1024)) MiB ($rss kB)"
  fi
  stop "$dir"
  echo "run $i: fresh start to node Ready ${fresh} ms; restart to node Ready ${restart} ms"
  rm -rf "$dir"
done
