#!/usr/bin/env bash
# Start a single-node SLURM on this host, without systemd: munged, slurmctld and slurmd as
# background daemons, a partition "debug" holding this node. Writes its state under
# $CITYRISK_SLURM_DIR (default /tmp/cityrisk-slurm). If SLURM already answers (sinfo shows an idle
# node), does nothing. Exits non-zero within about 40 s if the node does not come up idle.
# Stop with .ci/stop_slurm.sh.
set -uo pipefail
DIR="${CITYRISK_SLURM_DIR:-/tmp/cityrisk-slurm}"
WAIT="${CITYRISK_SLURM_WAIT:-40}"

idle() { timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

for c in munged slurmctld slurmd sinfo; do
  command -v "$c" >/dev/null || { echo "start_slurm: $c not installed (.ci/install_slurm.sh)" >&2; exit 2; }
done
if idle; then echo "start_slurm: SLURM already running"; exit 0; fi
[[ $(id -u) -eq 0 ]] || { echo "start_slurm: must run as root" >&2; exit 2; }

HOST="$(hostname -s)"
CPUS="$(nproc)"
mkdir -p "$DIR"/{state,spool,log} /etc/slurm /etc/munge /var/run/munge /var/lib/munge /var/log/munge
chmod 755 "$DIR"

# munge: a key if there is none, then the daemon (as root; --force because we are root).
if [[ ! -s /etc/munge/munge.key ]]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R root:root /etc/munge /var/run/munge /var/lib/munge /var/log/munge
chmod 700 /etc/munge /var/lib/munge /var/log/munge; chmod 755 /var/run/munge
chmod 400 /etc/munge/munge.key
if ! timeout 5 munge -n 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1; then
  munged --force >"$DIR/log/munged.out" 2>&1 || { echo "start_slurm: munged failed" >&2; exit 1; }
  touch "$DIR/started-munged"   # stop_slurm.sh stops only what this script started
  sleep 0.5
fi

CONF=/etc/slurm/slurm.conf
if [[ -e $CONF ]] && ! grep -q '^# cityrisk single-node' "$CONF"; then
  cp -n "$CONF" "$CONF.cityrisk-orig"   # keep a site config aside, never lose it
fi
cat >"$CONF" <<CONF
# cityrisk single-node test cluster (written by .ci/start_slurm.sh)
ClusterName=cityrisk
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=300
NodeName=$HOST CPUs=$CPUS RealMemory=2048 State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
# no cgroup.conf: containers lack cgroup plugins (proctrack/linuxproc, task/none need none)

if ! pgrep -x slurmctld >/dev/null; then
  slurmctld -c >"$DIR/log/slurmctld.out" 2>&1 \
    || { echo "start_slurm: slurmctld failed:" >&2; tail -5 "$DIR/log/slurmctld.log" >&2; exit 1; }
fi
if ! pgrep -x slurmd >/dev/null; then
  slurmd -c >"$DIR/log/slurmd.out" 2>&1 \
    || { echo "start_slurm: slurmd failed:" >&2; tail -5 "$DIR/log/slurmd.log" >&2; exit 1; }
fi

for ((i = 0; i < WAIT * 2; i++)); do
  if idle; then echo "start_slurm: node $HOST idle ($CPUS CPUs, partition debug)"; exit 0; fi
  (( i == 10 )) && timeout 5 scontrol update nodename="$HOST" state=resume >/dev/null 2>&1
  sleep 0.5
done
echo "start_slurm: node $HOST did not become idle within ${WAIT}s:" >&2
timeout 5 sinfo >&2 2>&1
tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 2>/dev/null
exit 1
