#!/usr/bin/env bash
# Stop what .ci/start_slurm.sh started (by the pid files it wrote), cancel leftover jobs, and put
# back any slurm.conf it replaced (or remove the one it wrote).
set -uo pipefail
DIR="${CITYRISK_SLURM_DIR:-/tmp/cityrisk-slurm}"
timeout 5 scancel --user="$(id -un)" >/dev/null 2>&1 || true
for d in slurmd slurmctld; do
  f="$DIR/$d.pid"
  if [[ -s $f ]]; then
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
done
f=/var/run/munge/munged.pid
if [[ -e $DIR/started-munged && -s $f ]]; then
  pid="$(cat "$f")"; kill "$pid" 2>/dev/null || true
fi
rm -f "$DIR/started-munged"
if [[ -f /etc/slurm/slurm.conf.cityrisk-orig ]]; then
  mv /etc/slurm/slurm.conf.cityrisk-orig /etc/slurm/slurm.conf
elif grep -qs '^# cityrisk single-node' /etc/slurm/slurm.conf; then
  rm -f /etc/slurm/slurm.conf
fi
exit 0
