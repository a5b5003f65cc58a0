#!/usr/bin/env bash
# GPU figures of the ML benchmark (docs/benchmarks.md, "ML models", "On a GPU"), on a machine with
# a CUDA GPU and the project's Python packages:
#
#   DATA_DIR=../shared/datasets OUT_DIR=/tmp/gpu_bench BUDGET=480 bench/gpu_bench.sh
#
# Runs bench/ml_bench.py once per configuration, most wanted first; each writes OUT_DIR/NAME.json
# as it finishes (its output goes to OUT_DIR/runs.log) and is bounded by `timeout`, and a run that
# no longer fits in the BUDGET (seconds, for the whole script) is skipped.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DATA_DIR=${DATA_DIR:-../shared/datasets}
OUT_DIR=${OUT_DIR:-/tmp/gpu_bench}
BUDGET=${BUDGET:-1800}
STEPS=${TRANSFORMER_STEPS:-750}
LONG_PRETRAIN=${LONG_PRETRAIN:-15000}
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
  timeout "$limit" "$PY" bench/ml_bench.py --data-dir "$DATA_DIR" --transformer-steps "$STEPS" \
    --json "$OUT_DIR/$name.json" "$@" >>"$OUT_DIR/runs.log" 2>&1
  echo "$name rc=$? after $((SECONDS - start)) s"
}

# MiniLM fine-tuned on BANKING77: accuracy, training time, GPU throughput at batch 1 and 256
run banking77-transformer 180 --datasets banking77 --backends transformer
# the Chinese ensemble with a much longer self-pretraining of its from-scratch BERT
run waimai-ensemble-long 330 --datasets waimai_10k --backends ensemble --pretrain-steps "$LONG_PRETRAIN" \
  --transformer-max-seconds 210
# the Chinese from-scratch BERT with the backend's default recipe (3,000 masked-LM steps)
run waimai-transformer 150 --datasets waimai_10k --backends transformer
# the best BANKING77 model of the CPU rounds (ensemble with a refit LP-FT MiniLM)
run banking77-ensemble-refit 400 --datasets banking77 --backends ensemble --transformer-refit-full
