#!/usr/bin/env bash
# CI check that `evaluate --shard` works under a real scheduler: starts a private single-node Slurm
# (munged, slurmctld and slurmd on this machine, configuration and state in a temporary folder), runs
# examples/slurm/evaluate-array.sbatch as a job array of shards, merges them in a job that depends on
# the array, and checks that the merged results equal an unsharded run of the same prompts (timing
# fields aside). Installs slurm-wlm, munge and jq if missing; needs root (as CI runs). Every daemon it
# started is stopped on exit, whatever the outcome.
# usage: scripts/slurm-array-test.sh [shards=3] [prompts=12]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
shards=${1:-3} prompts=${2:-12}
[ "$(id -u)" = 0 ] || { echo "slurm-array-test.sh starts slurmd and munged: run it as root (CI does)" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v jq >/dev/null; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge jq >/dev/null
fi
dll=$repo/src/RelpSae.Cli/bin/Release/net10.0/relp-sae.dll
[ -f "$dll" ] || dotnet build src/RelpSae.Cli -c Release -v q -nologo >/dev/null
export RELP_SAE="dotnet $dll"

work=$(mktemp -d /tmp/relp-sae-slurm.XXXXXX)
chmod 755 "$work"
pids=()
stop() {
  local rc=$?
  # Cancel what is still queued or running, then stop the daemons this script started (by pid).
  if [ -f "$work/slurm.conf" ] && command -v scancel >/dev/null; then
    scancel --quiet --full --user=root 2>/dev/null || true
    for _ in $(seq 20); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ "$rc" -eq 0 ] || { echo "slurm array check failed; logs:" >&2; tail -n 20 "$work"/*.log "$work"/*.out >&2 2>/dev/null || true; }
  rm -rf "$work"
  exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT TERM

# munged with its own key and socket, so a system munged (if any) is left alone.
dd if=/dev/urandom of="$work/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge.key"
munged --foreground --force --key-file="$work/munge.key" --socket="$work/munge.socket" \
  --pid-file="$work/munged.pid" --seed-file="$work/munged.seed" --log-file="$work/munged.log" 2>>"$work/munged.log" &
pids+=($!)

free_port() { local p; while :; do p=$((20000 + RANDOM % 20000)); ss -ltnH "sport = :$p" | grep -q . || { echo "$p"; return; }; done; }
host=$(hostname -s)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=relpsae-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
for _ in $(seq 50); do [ -S "$work/munge.socket" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >>"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$work/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 120); do [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && break; sleep 0.5; done
[ "$(sinfo -h -o %T 2>/dev/null)" = idle ] || { echo "the Slurm node did not come up" >&2; exit 1; }

# The array of shards, then merge once every shard has succeeded (afterok), waiting for the merge.
args=(--task contrastive --n "$prompts")
array=$(sbatch --parsable --array=0-$((shards - 1)) --cpus-per-task=1 --chdir="$work" --output="$work/%A_%a.out" \
  examples/slurm/evaluate-array.sbatch "$work/out" "${args[@]}")
# The unsharded reference runs here meanwhile.
$RELP_SAE evaluate "${args[@]}" --out "$work/whole" >"$work/whole.log" 2>&1
sbatch --wait --quiet --dependency=afterok:"$array" --kill-on-invalid-dep=yes --chdir="$work" --output="$work/merge.out" \
  --wrap "$RELP_SAE merge $work/out/shard* --out $work/out/merged" \
  || { echo "the array or the merge job failed" >&2; exit 1; }

# Equal apart from timing: CSVs byte for byte; JSON with every "*seconds*" key removed (report.html
# shows the same records and those timings, so it is not compared).
strip='walk(if type == "object" then with_entries(select(.key | test("seconds") | not)) else . end)'
for f in "$work"/whole/*.csv; do cmp "$f" "$work/out/merged/$(basename "$f")"; done
for f in results.json evaluations.jsonl; do
  cmp <(jq -S -c "$strip" "$work/whole/$f") <(jq -S -c "$strip" "$work/out/merged/$f")
done
count=$(wc -l <"$work/out/merged/evaluations.jsonl")
[ "$count" -eq "$prompts" ] || { echo "merged $count prompts, expected $prompts" >&2; exit 1; }
echo "slurm array: $shards shards of $prompts prompts merged, equal to the unsharded run"
