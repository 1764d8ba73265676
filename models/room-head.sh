#!/usr/bin/env bash
# Issue #11 §4: the shipped profile's `rooms` variant — the full head trained through rooms too.
# The training scenes' audio goes through the five room degradations chained
# (server/evaluation/room-degradations.ts, drawn per video from ROOM_SEED, which the held-out sets
# never use); the profile's frozen encoders extract features from it; the readouts (Concepts) and
# the head (models/head-recipe.sh) are trained drawing each example's audio features from the clean
# extraction or the room's; the head is exported into the profile as the variant `rooms`.
# Usage: models/room-head.sh TRAIN_DIR [PROFILE] [SEED]
#   TRAIN_DIR: train-tiny.sh's work dir (synth/, out/frontend/, out/features/); HELD_OUT: feature
#   dirs to score it on (models/diagnose.sh's OUT/seedN/out/features[-all]). A step whose output
#   exists is skipped; an interrupted head resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
train=$1 profile=${2:-models/tiny} seed=${3:-0}
work="$train/rooms"
python=(/usr/bin/python3 -W ignore)
mkdir -p "$work/checkpoints" "$work/export"
timed() { local started=$SECONDS; "$@"; echo "room-head: $(($SECONDS - started)) s for: $*" | tee -a "$work/wall-times.log"; }
[ -e "$work/frontend" ] || ln -s "$(realpath "$train/out/frontend")" "$work/frontend"
[ -f "$work/frontend-all/videos.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work" --degrade all --degrade-seed "${ROOM_SEED:-1001}"
[ -f "$work/features-all/features.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work" --stage features --profile "$profile" --degrade all
readouts="$work/checkpoints/readouts.pt"
[ -f "$readouts" ] || timed "${python[@]}" models/qstar/train.py readouts --features "$train/out/features" --dataset "$train/synth" \
  --out "$readouts" --room-features "$work/features-all"
source models/head-recipe.sh
cp "$profile"/{manifest.json,tiny-ast.onnx,tiny-audio.onnx,tiny-frame.onnx} "$work/export/"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} timed "${python[@]}" models/qstar/train.py head --features "$train/out/features" --out "$work/export" \
  --checkpoints "$work/checkpoints" --resume --concepts "$readouts" "${recipe[@]}" --room-features "$work/features-all" \
  --seed "$seed" --export ${HELD_OUT:+--held-out $HELD_OUT}
cp "$work/export/qstar-tiny.onnx" "$profile/qstar-tiny-rooms.onnx"
cp "$work/export/tiny-question.onnx" "$profile/tiny-question-rooms.onnx"
cp "$work/export/head-report.json" "$profile/head-report-rooms.json"
echo "room-head: the rooms variant is in $profile"
