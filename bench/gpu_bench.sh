#!/usr/bin/env bash
# GPU figures of the ML benchmark, on a machine with a CUDA GPU and the project's Python packages:
#
#   DATA_DIR=../shared/datasets OUT_DIR=/tmp/gpu_bench BUDGET=480 bench/gpu_bench.sh
#
# Runs bench/ml_bench.py once per configuration, most wanted first; each writes OUT_DIR/NAME.json
# (its output goes to OUT_DIR/runs.log) and is bounded by `timeout`; a run that no longer fits in
# the BUDGET (seconds, for the whole script) is skipped.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DATA_DIR=${DATA_DIR:-../shared/datasets}
OUT_DIR=${OUT_DIR:-/tmp/gpu_bench}
BUDGET=${BUDGET:-1800}
mkdir -p "$OUT_DIR"
start=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$OUT_DIR/gpu.txt" 2>&1 || true

run() {  # NAME LIMIT_S ml_bench-arguments...
  local name=$1 limit=$2 left
  shift 2
  left=$((BUDGET - (SECONDS - start)))
  ((left < limit)) && limit=$left
  if ((limit < 30)); then echo "$name skipped (budget spent)"; return; fi
  echo "== $name: $*" >>"$OUT_DIR/runs.log"
  timeout "$limit" "$PY" bench/ml_bench.py --data-dir "$DATA_DIR" --json "$OUT_DIR/$name.json" "$@" \
    >>"$OUT_DIR/runs.log" 2>&1
  echo "$name rc=$? after $((SECONDS - start)) s"
}

# MiniLM fine-tuned with Trainer (bf16) on BANKING77
run banking77-transformer 240 --datasets banking77 --backends transformer
# the default English ensemble (linear + embedding) with the encoder on the GPU
run banking77-ensemble 180 --datasets banking77 --backends ensemble
# the from-scratch Chinese BERT option
run waimai-transformer 180 --datasets waimai_10k --backends transformer
