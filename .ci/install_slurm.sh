#!/usr/bin/env bash
# Install Debian's single-node SLURM (slurm-wlm) and munge for the cluster tests (pytest -m cluster).
# Idempotent; does nothing if they are already there. Never fails the caller: without root or apt
# the cluster tests simply skip.
set -uo pipefail
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
  exit 0
fi
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "install_slurm: not root or no apt-get; cluster tests will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
timeout 300 apt-get update -qq >/dev/null 2>&1 || true
timeout 600 apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 \
  || echo "install_slurm: apt-get install slurm-wlm munge failed; cluster tests will skip" >&2
exit 0
