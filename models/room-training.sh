#!/usr/bin/env bash
# Issue #11 §4: the audio encoders trained through a room. The training scenes' audio goes through
# the five room degradations chained (server/evaluation/room-degradations.ts, drawn per video from
# a seed the held-out sets never use); the AST-like and VGGish-like encoders are pretrained again
# drawing each example from the clean or the room front-end, the frame encoder is kept; then the
# features, the readouts and the head with the shipped recipe (models/head-recipe.sh; seed 0 is
# exported, SEEDS more are trained for the spread), and every held-out set of
# models/diagnose.sh + models/robustness.sh (clean, each degradation, all chained, the unseen
# soundfont) served through onnxruntime-node with the new profile.
# Usage: models/room-training.sh TRAIN_DIR HELDOUT_DIR WORK [HELDOUT_SEEDS...]
#   TRAIN_DIR: train-tiny.sh's work dir (synth/ and out/frontend/); HELDOUT_DIR: robustness.sh's
#   OUT (seedN/ and seedN-csound/ with their front-ends). WORK gets the profile (WORK/model),
#   checkpoints, head reports and WORK/held/seedN/accuracy-*.json; a step whose output exists is
#   skipped. ENCODER_EPOCHS (8), ROOM_SEED (1001), SEEDS (1), PROFILE (models/tiny: the frame
#   encoder and manifest kept).
set -euo pipefail
cd "$(dirname "$0")/.."
train=$1 heldout=$2 work=$3
shift 3
held_seeds=("${@:-101 102}")
python=(/usr/bin/python3 -W ignore)
mkdir -p "$work/checkpoints" "$work/model"
timed() { local started=$SECONDS; "$@"; echo "room-training: $(($SECONDS - started)) s for: $*" | tee -a "$work/wall-times.log"; }
link() { [ -e "$2" ] || ln -s "$(realpath "$1")" "$2"; } # the clean front-ends, read in place

link "$train/out/frontend" "$work/frontend"
[ -f "$work/frontend-all/videos.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work" --degrade all --degrade-seed "${ROOM_SEED:-1001}"
[ -f "$work/model/manifest.json" ] || cp "${PROFILE:-models/tiny}"/{manifest.json,tiny-frame.onnx,encoders-report.json} "$work/model/"
[ -f "$work/model/tiny-audio.onnx" ] ||
  timed "${python[@]}" models/qstar/train.py encoders --frontend "$work/frontend" --dataset "$train/synth" --out "$work/model" \
    --epochs "${ENCODER_EPOCHS:-8}" --checkpoints "$work/checkpoints" --only ast audio --room-frontend "$work/frontend-all"
[ -f "$work/features/features.json" ] || timed npm run --silent extract -- --dataset "$train/synth" --out "$work" --stage features --profile "$work/model"
readouts="$work/checkpoints/readouts.pt"
[ -f "$readouts" ] || timed "${python[@]}" models/qstar/train.py readouts --features "$work/features" --dataset "$train/synth" --out "$readouts"

# Held-out features with the new encoders, from the front-ends robustness.sh made.
sets=()
for seed in ${held_seeds[@]}; do
  dir="$work/held/seed$seed"
  mkdir -p "$dir"
  for frontend in "$heldout/seed$seed/out"/frontend*; do link "$frontend" "$dir/$(basename "$frontend")"; done
  [ -f "$dir/features/features.json" ] || npm run --silent extract -- --dataset "$heldout/seed$seed/synth" --out "$dir" --stage features --profile "$work/model"
  for degrade in reverb noise mic-eq level codec all; do
    [ -f "$dir/features-$degrade/features.json" ] ||
      npm run --silent extract -- --dataset "$heldout/seed$seed/synth" --out "$dir" --stage features --profile "$work/model" --degrade "$degrade"
  done
  font="$work/held/seed$seed-csound"
  mkdir -p "$font"
  link "$heldout/seed$seed-csound/out/frontend" "$font/frontend"
  [ -f "$font/features/features.json" ] || npm run --silent extract -- --dataset "$heldout/seed$seed-csound/synth" --out "$font" --stage features --profile "$work/model"
  sets+=("$dir/features")
done

source models/head-recipe.sh
head() { # seed; the shipped recipe, scored on the clean held-out sets
  OMP_NUM_THREADS=1 timed "${python[@]}" models/qstar/train.py head --features "$work/features" --out "$work/model" --checkpoints "$work/checkpoints" \
    --resume --concepts "$readouts" "${recipe[@]}" --seed "$1" --held-out "${sets[@]}" >"$work/head-seed$1.log" 2>&1
}
for seed in 0 ${SEEDS:-1}; do head "$seed" & done
wait

for seed in ${held_seeds[@]}; do
  dir="$work/held/seed$seed"
  evaluate() { # annotations features name
    npm run --silent eval -- --annotations "$1" --features "$2" --model "$work/model" --variant full --json --write-predictions "$dir/predictions-$3.jsonl" >"$dir/accuracy-$3.json"
  }
  evaluate "$heldout/seed$seed/synth/avqa-all.json" "$dir/features" full
  for degrade in reverb noise mic-eq level codec all; do
    evaluate "$heldout/seed$seed/synth/avqa-all.json" "$dir/features-$degrade" "full-degraded-$degrade"
  done
  evaluate "$heldout/seed$seed-csound/synth/avqa-all.json" "$work/held/seed$seed-csound/features" full-unseen-soundfont
  echo "room-training: held-out seed $seed → $dir"
done
