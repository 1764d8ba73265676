#!/usr/bin/env bash
# Session 19: rules added to the trained full head, only their gains trained. Rhythm is compared
# by TinyOnsets' own onsets per second where it hears a part (--onset-rates: no weights); the
# instruments heard are counted as sounding performers plus classes heard off stage
# (--heard-count) and "is this sound from the instrument in the video" is answered by whether any
# class is heard off stage (--sound-in-view), each with a gain of its own that the sentence sets.
# Everything the head had learned stays as it was (--train-only those two gains; AdamW 1e-3,
# 2 epochs, ×0.1 after 1, through rooms and silence as room-head.sh trains); the best epoch
# (validation) is exported with the stereo templates and the look-alikes by sound, and (session
# 20, no weights) with neighbouring columns of one class unmerged where the frame readout counts
# more performers (--stage-count-by-sight).
# Usage: models/added-rules.sh TRAIN_DIR [PROFILE]   (after models/join-onsets.sh TRAIN_DIR PROFILE:
#   the onsets' features, readouts and TRAIN_DIR/rooms' stereo templates must exist.)
#   The head it starts from is kept as TRAIN_DIR/rules/checkpoints/qstar-tiny-before.pt, so a
#   second run starts from the same head; a run whose checkpoint exists re-exports without training.
set -euo pipefail
cd "$(dirname "$0")/.."
train=$1 profile=${2:-models/tiny}
work="$train/rules" onsets="$train/onsets"
python=(/usr/bin/python3 -W ignore)
mkdir -p "$work/checkpoints" "$work/export"
timed() { local started=$SECONDS; "$@"; echo "added-rules: $(($SECONDS - started)) s for: $*" | tee -a "$work/wall-times.log"; }
before="$work/checkpoints/qstar-tiny-before.pt"
[ -f "$before" ] || cp "$profile/qstar-tiny.pt" "$before"
cp "$profile"/{manifest.json,tiny-ast.onnx,tiny-audio.onnx,tiny-frame.onnx} "$work/export/"
source models/head-recipe.sh
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} timed "${python[@]}" models/qstar/train.py head --features "$onsets/out/features" \
  --out "$work/export" --checkpoints "$work/checkpoints" --resume --concepts "$onsets/checkpoints/readouts.pt" "${recipe[@]}" \
  --epochs 2 --step-epochs 1 --lr 1e-3 --room-features "$onsets/rooms/features-all" --silence 0.25 \
  --silent-features "$onsets/out/features-silent-audio" --dataset "$train/synth" --seed 0 --export --init-from "$before" \
  --heard-count --sound-in-view --onset-rates --train-only head.rules.heard_gain head.rules.view_gain \
  > "$work/head.log" 2>&1
timed "${python[@]}" models/qstar/train.py export "$work/export/qstar-tiny.pt" --out "$profile" \
  --stereo-templates "$train/rooms/checkpoints/stereo-templates.json" --stage-count-by-sight --slim "$profile/qstar-tiny.pt"
cp "$work/export/head-report.json" "$profile/head-report-added-rules.json"
echo "added-rules: $profile's full head counts what is heard off stage and hears rhythm by TinyOnsets"
