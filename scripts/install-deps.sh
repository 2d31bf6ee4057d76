#!/usr/bin/env bash
# Installs the system packages k8rs needs on Debian (only what is missing).
set -euo pipefail
packages=(containerd runc containernetworking-plugins nftables busybox-static protobuf-compiler conntrack iproute2 curl ca-certificates kmod etcd-server etcd-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Debian starts a system containerd; k8rs runs its own, so the system one is not needed.
# kubectl fixed versions live beside the dispatcher on machines that have them.
