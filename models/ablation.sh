#!/usr/bin/env bash
# The ablation table: each QSTar variant × training seed, trained with the shipped recipe
# (models/head-recipe.sh), PARALLEL runs at a time, each measured on every question of the
# held-out sets (scenes from seeds never trained or tuned on). On a GPU machine, run it there.
# Usage: models/ablation.sh FEATURES READOUTS OUT [HELDOUT_FEATURES ...]
#   VARIANTS (default: full no_qgmc no_sti no_tfi no_qcr no_all late_fusion), SEEDS (0 1),
#   PARALLEL (2), PYTHON (/usr/bin/python3: Debian's torch), DEVICE (cuda where torch sees one)
#   EXTRA (more train.py head flags: "--performer-facts" for session 8's GPU ablation, "--max-steps
#   20" for a smoke run)
# Writes OUT/head-report-<run>.json (with "held_out" per set), OUT/logs/<run>.log and checkpoints
# in OUT/checkpoints (an interrupted run resumes). Table: models/qstar/report.py --heads OUT
set -euo pipefail
cd "$(dirname "$0")/.."
features=$1 readouts=$2 out=$3
shift 3
held_out=("$@")
source models/head-recipe.sh
mkdir -p "$out/logs" "$out/checkpoints"
train() { # variant seed
  local log="$out/logs/$1-seed$2.log" started=$SECONDS
  if "${PYTHON:-/usr/bin/python3}" -W ignore models/qstar/train.py head --features "$features" --out "$out" \
    --checkpoints "$out/checkpoints" --resume --no-export --concepts "$readouts" "${recipe[@]}" \
    ${DEVICE:+--device "$DEVICE"} ${EXTRA:-} --variant "$1" --seed "$2" --held-out "${held_out[@]}" >"$log" 2>&1; then
    echo "ablation: $1 seed $2 done in $((SECONDS - started)) s"
  else
    echo "ablation: $1 seed $2 FAILED (see $log)"
  fi
}
running=0
for seed in ${SEEDS:-0 1}; do
  for variant in ${VARIANTS:-full no_qgmc no_sti no_tfi no_qcr no_all late_fusion}; do
    train "$variant" "$seed" &
    running=$((running + 1))
    if [ "$running" -ge "${PARALLEL:-2}" ]; then
      wait -n || true
      running=$((running - 1))
    fi
  done
done
wait
