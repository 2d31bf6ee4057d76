#!/usr/bin/env bash
# Prepares the Python environment of the API compatibility suite (crates/testkit/tests/compat.rs):
# a virtualenv with the official Kubernetes client (`kubernetes`) and pytest from PyPI.
# Idempotent: when the venv already imports both, it returns at once.
#
# Usage: scripts/compat-python-setup.sh [VENV_DIR]   (default: $COMPAT_VENV or /var/tmp/k8rs-compat-venv)
# Prints the venv's python interpreter path on its last line.
set -euo pipefail

VENV="${1:-${COMPAT_VENV:-/var/tmp/k8rs-compat-venv}}"
PY="$VENV/bin/python"

if [ -x "$PY" ] && "$PY" -c 'import kubernetes, pytest' 2>/dev/null; then
    echo "$PY"
    exit 0
fi

PYTHON3="$(command -v python3 || true)"
# Debian's python3 ships without venv/ensurepip; install them with apt when missing.
if [ -z "$PYTHON3" ] || ! "$PYTHON3" -c 'import venv, ensurepip' 2>/dev/null; then
    if command -v apt-get >/dev/null; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq python3-venv python3-pip >/dev/null
        PYTHON3="$(command -v python3)"
    else
        echo "python3 with the venv module is required" >&2
        exit 1
    fi
fi

rm -rf "$VENV"
"$PYTHON3" -m venv "$VENV"
"$PY" -m pip install --quiet --disable-pip-version-check kubernetes pytest >&2
"$PY" -c 'import kubernetes, pytest' >&2
echo "$PY"
