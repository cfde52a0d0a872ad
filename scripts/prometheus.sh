#!/usr/bin/env bash
# Prometheus from Debian's packages, for the test that scrapes the server with the real thing.
#
#   scripts/prometheus.sh install   # installs the prometheus binary if needed (the test starts its own)
#
# The package's own service is not what the test uses: it starts a Prometheus of its own on
# loopback, with its own configuration and a throwaway data directory.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$ROOT/scripts/lib.sh"

case "${1:-}" in
  install)
    apt_need prometheus
    # The package may have started its service (where there is an init system): the test needs
    # none of it, and it would hold port 9090.
    if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
      as_root systemctl stop prometheus || true
    fi
    ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
