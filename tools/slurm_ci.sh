#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests of profiles/slurm:
#   tools/slurm_ci.sh start DIR   # installs SLURM if missing (apt, as root),
#                                 # starts munged, slurmctld, slurmd; state in DIR
#   tools/slurm_ci.sh stop DIR    # stops the daemons `start` started
# Its slurm.conf is DIR/slurm.conf, linked from /etc/slurm/slurm.conf (the
# plugin's job steps drop $SLURM_CONF); a machine with a slurm.conf of its own
# is left alone (exit 3), and a dangling link there (left by a start whose stop
# never ran) is removed.
# No accounting (no slurmdbd): sacct fails, so runs poll with squeue, which
# sees finished jobs for MinJobAge seconds. The node claims 16 CPUs and 160 GB
# whatever the machine has (nothing enforces them), room for two training jobs
# of profiles/slurm at once; partitions cpu and gpu. scancel reaches every
# process of a job (proctrack/pgid: the job step's snakemake too, which
# outlives its parent on SIGTERM) and SIGKILLs them after KillWait=5 s.
# Exit status 3: no cluster can be started here (the message says why).
set -euo pipefail

cmd=${1:?usage: $0 start|stop DIR}
dir=$(mkdir -p "${2:?usage: $0 start|stop DIR}" && cd "$2" && pwd)

stop() {
  if [[ -f $dir/conf.started ]]; then
    jobs=$(squeue -h -o %i 2>/dev/null || true)
    [[ -z $jobs ]] || scancel $jobs 2>/dev/null || true
    for _ in $(seq 100); do
      [[ -z $(squeue -h -t R,CG -o %i 2>/dev/null) ]] && break; sleep 0.1
    done
  fi
  for d in slurmd slurmctld munged; do
    if [[ -f $dir/$d.started ]]; then
      pid=$(cat "$dir/$d.started")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$d.started"
    fi
  done
  if [[ -f $dir/conf.started ]]; then
    [[ $(readlink /etc/slurm/slurm.conf) != "$dir/slurm.conf" ]] \
      || rm -f /etc/slurm/slurm.conf
    rm -f "$dir/conf.started"
  fi
}

if [[ $cmd == stop ]]; then stop; exit 0; fi
[[ $cmd == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
    echo "SLURM is not installed and installing it needs root and apt-get" >&2
    exit 3
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends munge slurmctld slurmd slurm-client; } \
    > "$dir/apt.log" 2>&1 || {
    echo "apt-get install munge slurmctld slurmd slurm-client failed:" >&2
    tail -n 5 "$dir/apt.log" >&2; exit 3; }
fi
if [[ $(id -u) != 0 ]]; then
  echo "starting slurmd needs root" >&2; exit 3
fi

if [[ -L /etc/slurm/slurm.conf && ! -e /etc/slurm/slurm.conf ]]; then
  rm -f /etc/slurm/slurm.conf
fi
if [[ -e /etc/slurm/slurm.conf ]]; then
  echo "/etc/slurm/slurm.conf exists: this machine has a SLURM of its own" >&2
  exit 3
fi
trap 'stop' ERR
host=$(hostname -s)
mkdir -p "$dir/state" "$dir/spool"
cat > "$dir/slurm.conf" <<EOF
ClusterName=ci
MailProg=/bin/true
MpiDefault=none
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
KillWait=5
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=16 RealMemory=160000 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
mkdir -p /etc/slurm
ln -s "$dir/slurm.conf" /etc/slurm/slurm.conf
touch "$dir/conf.started"

# munged: the running one if any (its socket is the one slurm uses), else ours.
if ! munge -n </dev/null >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
  cat /run/munge/munged.pid > "$dir/munged.started"
fi

setsid slurmctld -D -f "$dir/slurm.conf" > "$dir/slurmctld.out" 2>&1 &
echo $! > "$dir/slurmctld.started"
setsid slurmd -D -f "$dir/slurm.conf" > "$dir/slurmd.out" 2>&1 &
echo $! > "$dir/slurmd.started"

for _ in $(seq 300); do
  if [[ $(sinfo -h -p cpu -o %t 2>/dev/null) == idle ]]; then
    echo "SLURM is up: $dir/slurm.conf"
    exit 0
  fi
  sleep 0.1
done
echo "SLURM did not come up in 30 s; $dir/slurmctld.log:" >&2
tail -n 5 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
stop
exit 1
