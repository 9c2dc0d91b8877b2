#!/usr/bin/env bash
# Installs every Debian package kpulse needs to build, test and benchmark.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

BUILD_PKGS="clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libmicrohttpd-dev libcap-dev libseccomp-dev
pkg-config uthash-dev libjansson-dev libcurl4-openssl-dev libyaml-dev libcmocka-dev make gcc
libclang-rt-14-dev libsystemd-dev help2man nodejs libcrypt-dev libgnutls28-dev"
TEST_PKGS="prometheus prometheus-alertmanager prometheus-node-exporter curl stress-ng python3 python3-prometheus-client iproute2 procps util-linux bpftool tmux python3-jsonschema wrk nginx nftables python3-yaml python3-seccomp dpkg-dev man-db systemd docker.io podman runc busybox-static chromium openssl apache2-utils postgresql"
BENCH_PKGS="rt-tests linux-perf bpftrace"

want="$BUILD_PKGS $TEST_PKGS"
case "${1:-}" in
  --bench) want="$want $BENCH_PKGS" ;;
  --build) want="$BUILD_PKGS" ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
# npm (the build inlines the dashboard's charting library with it; the
# browser test's driver and the deploy test's Kubernetes schema packages come
# through it) comes with some nodejs builds and is its own Debian package
# otherwise
case "$want" in *nodejs*) command -v npm >/dev/null || missing="$missing npm" ;; esac
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing (run as root to install)" >&2
  exit 77
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
