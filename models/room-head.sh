#!/usr/bin/env bash
# Issue #11 §4: the shipped profile's full head, trained through rooms too.
# The training scenes' audio goes through the five room degradations chained
# (server/evaluation/room-degradations.ts, drawn per video from ROOM_SEED, which the held-out sets
# never use); the profile's frozen encoders extract features from it; the readouts (Concepts) and
# the head (models/head-recipe.sh) are trained drawing each example's audio features from the clean
# extraction or the room's; which classes sound is read by sighted hearing (HEARD_HIDDEN units,
# default 256; 0 for the linear map: train.py readouts --heard-hidden), taught on silent audio
# too; a share (SILENCE, default 0.25) of the questions silence leaves answerable hear the
# scene's silent-audio features and learn silence's answer (train.py --silence). One head per
# seed in SEEDS, side by side; the best by validation (clean scenes of the training seed) becomes
# the profile's full head, with its slim checkpoint (qstar-tiny.pt: it re-exports the head,
# `train.py export`), re-exported with StageRules' stereo templates; the others' reports are kept
# beside it.
# INIT_FROM (a head's checkpoint) starts each seed from that head's weights instead of from
# nothing, and HEAD_FLAGS adds flags after the recipe's (later ones win): how session 18
# fine-tuned the shipped head on the widened audio stream (README; not shipped: no gain).
# Usage: models/room-head.sh TRAIN_DIR [PROFILE] [SEEDS]   (SEEDS default "0 1")
#   TRAIN_DIR: train-tiny.sh's work dir (synth/, out/frontend/, out/features/); HELD_OUT: feature
#   dirs to score it on (models/diagnose.sh's OUT/seedN/out/features[-all]). A step whose output
#   exists is skipped; an interrupted head resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
train=$1 profile=${2:-models/tiny} seeds=${3:-0 1}
work="$train/rooms"
python=(/usr/bin/python3 -W ignore)
mkdir -p "$work/checkpoints"
timed() { local started=$SECONDS; "$@"; echo "room-head: $(($SECONDS - started)) s for: $*" | tee -a "$work/wall-times.log"; }
[ -e "$work/frontend" ] || ln -s "$(realpath "$train/out/frontend")" "$work/frontend"
[ -f "$work/frontend-all/videos.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work" --degrade all --degrade-seed "${ROOM_SEED:-1001}"
[ -f "$work/features-all/features.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work" --stage features --profile "$profile" --degrade all
silent="$train/out/features-silent-audio"
[ -f "$silent/features.json" ] || timed npm run --silent extract -- --dataset "$train/synth" --out "$train/out" --stage features \
  --profile "$profile" --counterfactual silent-audio
readouts="$work/checkpoints/readouts.pt"
[ -f "$readouts" ] || timed "${python[@]}" models/qstar/train.py readouts --features "$train/out/features" --dataset "$train/synth" \
  --out "$readouts" --room-features "$work/features-all" --heard-hidden "${HEARD_HIDDEN:-256}" --silent-features "$silent"
source models/head-recipe.sh
train_seed() { # one seed, into its own folder (seeds train side by side, a core each)
  local seed=$1 out="$work/export-seed$1"
  mkdir -p "$out"
  cp "$profile"/{manifest.json,tiny-ast.onnx,tiny-audio.onnx,tiny-frame.onnx} "$out/"
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} timed "${python[@]}" models/qstar/train.py head --features "$train/out/features" --out "$out" \
    --checkpoints "$work/checkpoints" --resume --concepts "$readouts" "${recipe[@]}" --room-features "$work/features-all" \
    --silence "${SILENCE:-0.25}" --silent-features "$silent" --dataset "$train/synth" \
    --seed "$seed" --export ${HELD_OUT:+--held-out $HELD_OUT} ${INIT_FROM:+--init-from "$INIT_FROM"} ${HEAD_FLAGS:-} \
    > "$work/head-seed$seed.log" 2>&1
  mv "$out"/head-report*.json "$out/report.json"
}
pids=()
for seed in $seeds; do train_seed "$seed" & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid"; done
best_val=-1 best=""
for seed in $seeds; do
  out="$work/export-seed$seed"
  val=$("${python[@]}" -c 'import json, sys; print(json.load(open(sys.argv[1]))["best_val_accuracy"])' "$out/report.json")
  echo "room-head: seed $seed: best validation accuracy $val"
  if "${python[@]}" -c 'import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]))' "$val" "$best_val"; then
    best_val=$val best=$seed
  fi
done
for seed in $seeds; do
  if [ "$seed" = "$best" ]; then
    cp "$work/export-seed$seed"/{qstar-tiny.onnx,tiny-question.onnx,qstar-tiny.pt} "$profile/"
    cp "$work/export-seed$seed/report.json" "$profile/head-report.json"
  else
    cp "$work/export-seed$seed/report.json" "$profile/head-report-full-seed$seed.json"
  fi
done
# Each performer heard where it stands (model.py's stereo_power): templates fitted on the
# training scenes' stereo bands (written beside their clean features), no weights to train; the
# chosen head is re-exported with them, its slim checkpoint's config holding them.
templates="$work/checkpoints/stereo-templates.json"
[ -f "$templates" ] || timed "${python[@]}" models/qstar/train.py stereo-templates --features "$train/out/features" \
  --dataset "$train/synth" --out "$templates"
timed "${python[@]}" models/qstar/train.py export "$work/export-seed$best/qstar-tiny.pt" --out "$profile" \
  --lookalikes-by-sound --stereo-templates "$templates" --slim "$profile/qstar-tiny.pt"
echo "room-head: seed $best's head (validation $best_val) is the full head of $profile"
