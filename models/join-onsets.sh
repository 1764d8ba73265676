#!/usr/bin/env bash
# Session 17: onsets heard at 10 ms, given to a trained profile without training its head again.
# TinyOnsets (model.py) is pretrained on the training scenes' onset times, through clean and room
# audio, and joined to the profile's audio encoder (its clip graph kept as it is: one output,
# the clip embedding then 44 per-second facts); the training scenes' features are extracted
# again (clean, through the room, silent audio); the readouts of what is heard are fitted again
# on the wider stream, the maps of what is seen kept from the shipped head (--sight-from: the frame
# encoder did not change); the full head is re-exported with them (its learned weights read the
# new dimensions with zero weights, train.py export --readouts), its slim checkpoint rewritten;
# the other variants' heads are narrowed to the first 128 audio dimensions (export.py
# narrow-audio), so they answer exactly as before.
# Usage: models/join-onsets.sh TRAIN_DIR [PROFILE]   (TRAIN_DIR as models/room-head.sh's; its
#   rooms/frontend-all must exist.) Steps whose output exists are skipped; checkpoints and logs
#   stay in TRAIN_DIR/onsets.
set -euo pipefail
cd "$(dirname "$0")/.."
train=$1 profile=${2:-models/tiny}
work="$train/onsets"
python=(/usr/bin/python3 -W ignore)
mkdir -p "$work/checkpoints"
timed() { local started=$SECONDS; "$@"; echo "join-onsets: $(($SECONDS - started)) s for: $*" | tee -a "$work/wall-times.log"; }
[ -f "$work/checkpoints/tiny-onsets.pt" ] ||
  timed "${python[@]}" models/qstar/train.py encoders --only onsets --frontend "$train/out/frontend" --dataset "$train/synth" \
    --room-frontend "$train/rooms/frontend-all" --out "$profile" --epochs "${EPOCHS:-16}" --lr 2e-3 \
    --checkpoints "$work/checkpoints" > "$work/onsets.log" 2>&1
mkdir -p "$work/out" "$work/rooms"
ln -sfn "$(realpath "$train/out/frontend")" "$work/out/frontend"
ln -sfn "$(realpath "$train/rooms/frontend-all")" "$work/rooms/frontend-all"
[ -f "$work/out/features/features.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work/out" --stage features --profile "$profile"
[ -f "$work/rooms/features-all/features.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work/rooms" --stage features --profile "$profile" --degrade all
[ -f "$work/out/features-silent-audio/features.json" ] ||
  timed npm run --silent extract -- --dataset "$train/synth" --out "$work/out" --stage features --profile "$profile" \
    --counterfactual silent-audio
readouts="$work/checkpoints/readouts.pt"
[ -f "$readouts" ] || timed "${python[@]}" models/qstar/train.py readouts --features "$work/out/features" \
  --dataset "$train/synth" --out "$readouts" --room-features "$work/rooms/features-all" --heard-hidden "${HEARD_HIDDEN:-256}" \
  --silent-features "$work/out/features-silent-audio" --sight-from "$profile/qstar-tiny.pt"
# The head as shipped before onsets, kept beside the checkpoints: the re-export starts from it.
[ -f "$work/checkpoints/qstar-tiny-before.pt" ] || cp "$profile/qstar-tiny.pt" "$work/checkpoints/qstar-tiny-before.pt"
timed "${python[@]}" models/qstar/train.py export "$work/checkpoints/qstar-tiny-before.pt" --readouts "$readouts" \
  --out "$profile" --slim "$profile/qstar-tiny.pt"
for variant in clean no_tfi late_fusion; do
  head="$profile/qstar-tiny-$variant.onnx"
  [ -f "$head" ] && "${python[@]}" models/qstar/export.py narrow-audio "$head" 128
done
echo "join-onsets: $profile's audio encoder hears onsets; its full head reads them"
