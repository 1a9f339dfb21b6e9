#!/usr/bin/env bash
# mlpio under a real Slurm (Debian's slurm-wlm and munge, started here: slurmctld and one slurmd
# per emulated host, lib.sh slurm_up): srun with PMIx straight, then the batch templates of
# scripts/slurm submitted with sbatch and scaled down through their variables, each job's
# results checked with mlpio validate.
source "$(dirname "$0")/lib.sh"
apart_dir 1024 # data on another file system than the results (Rules.md 3.4.2)
slurm_up node1 node2
# What the ranks need on emulated hosts: TCP over loopback between them.
export OMPI_MCA_btl=self,vader,tcp OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
T="$(cd "$E2E_DIR/../.." && pwd)/scripts/slurm"

# srun --mpi=pmix: Debian's Open MPI and Slurm share PMIx (srun --mpi=list offers pmix and
# pmi2; this Open MPI has no PMI2 client).
srun --mpi=list 2>&1 | grep -q pmix || fail "this Slurm offers no PMIx (srun --mpi=list)"
set +e
timeout -k 10 120 srun --mpi=pmix -N2 -n4 "$MLPIO_BIN" checkpointing run --model llama3-8b \
    --scale 0.001 -p checkpoint.time_between_checkpoints=0 -cf "$APART/ck" -rd "$WORK/srun" \
    >"$OUT" 2>"$ERR"
CODE=$?
set -e
[ "$CODE" -eq 0 ] || fail "srun: exit $CODE"
python3 - "$(last_run "$WORK/srun")" <<'PY' || fail "srun: the hosts of the job"
import glob, json, sys
m = json.load(open(glob.glob(sys.argv[1] + "/*_metadata.json")[0]))
got = [(h["hostname"], h["ranks"]) for h in m["cluster"]["hosts"]]
assert got == [("node1", 2), ("node2", 2)], got
PY
rm -rf "$APART/ck"

# submit TEMPLATE VAR=VALUE...: the template as a batch job on 2 nodes x 2 tasks, waited for.
submit() {
    local template=$1 t0=$SECONDS
    shift
    set +e
    env "$@" MLPIO="$MLPIO_BIN" timeout -k 10 240 sbatch --wait -N2 --ntasks-per-node=2 \
        --output="$WORK/job.out" --chdir="$WORK" "$T/$template" >"$OUT" 2>"$ERR"
    CODE=$?
    set -e
    [ "$CODE" -eq 0 ] || { cat "$WORK/job.out" >>"$ERR"; fail "sbatch $template: exit $CODE"; }
    echo "sbatch $template: $((SECONDS - t0)) s"
}

submit checkpointing.sbatch CKPT_DIR="$APART/ckb" RESULTS_DIR="$WORK/batch" DIVISION=--open \
    EXTRA="--scale 0.001 --params checkpoint.time_between_checkpoints=0"
# The job ran on both nodes, 2 tasks each, and its run says so.
grep -q "checkpointing llama3-8b: 4 ranks" "$WORK/job.out" || fail "checkpointing job output"
rm -rf "$APART/ckb"
submit kvcache.sbatch OPTION= CACHE_DIR="$APART/kv" RESULTS_DIR="$WORK/batch" DIVISION= \
    EXTRA="--model tiny-1b --scale 0.01 -nu 2 -d 2 --storage-capacity-gb 1 --allow-invalid-params"
grep -q "kvcache tiny-1b" "$WORK/job.out" || fail "kvcache job output"
submit training.sbatch MODEL=unet3d FILES=84 LOOPS=2 DATA_DIR="$APART/u3d" \
    RESULTS_DIR="$WORK/batch" DIVISION= EXTRA="--scale 0.0005 --allow-invalid-params"
grep -q "training unet3d: 4 ranks" "$WORK/job.out" || fail "training job output"

# A job with fewer tasks than the workload needs: llama3-70b is a 64-rank job of 8-rank model
# replicas, and 4 tasks are not even one; refused on every rank before any I/O.
set +e
env CKPT_DIR="$APART/ck70" RESULTS_DIR="$WORK/batch70" MODEL=llama3-70b MLPIO="$MLPIO_BIN" \
    timeout -k 10 240 sbatch --wait -N2 --ntasks-per-node=2 --output="$WORK/job70.out" \
    --chdir="$WORK" "$T/checkpointing.sbatch" >/dev/null 2>&1
CODE=$?
set -e
[ "$CODE" -ne 0 ] || fail "a 4-task job of the 64-rank llama3-70b ran"
grep -q "mlpio: error: --closed was given but this run would be INVALID" "$WORK/job70.out" ||
    fail "the short job was not refused"
grep -q "INVALID world_size: 4 ranks is not a multiple of the 8 tensor x pipeline parallel ranks of llama3-70b" "$WORK/job70.out" ||
    { cat "$WORK/job70.out"; fail "the short job's refusal does not say why"; }
[ ! -e "$APART/ck70" ] || fail "the refused job wrote checkpoints"

# The results of the jobs, validated: every run found, each with the 2 hosts of its job.
run 1 validate --open --json "$WORK/batch"
python3 - "$OUT" <<'PY' || fail "validate over the batch jobs' results"
import json, sys
d = json.load(open(sys.argv[1]))
runs = sorted((r["benchmark"], r["command"]) for r in d["runs"])
assert runs == [("checkpointing", "run"), ("kvcache", "run"), ("training", "datagen"),
                ("training", "run"), ("training", "run")], runs
assert all(r["metadata"]["cluster"]["num_hosts"] == 2 for r in d["runs"]), d["runs"]
assert all(r["status"] == "success" for r in d["runs"]), [r["status"] for r in d["runs"]]
PY
echo "ok"
