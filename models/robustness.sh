#!/usr/bin/env bash
# Issue #11 §4: how much a profile loses outside the training mix, on held-out scenes. For each
# held-out set OUT/seedN (made by models/diagnose.sh): the audio through a room (reverb), its
# noise (10–30 dB SNR), a microphone (100 Hz–8 kHz, presence ±6 dB), a level change (−20…+10 dB),
# an Opus/MP3 round trip (16–32 kb/s), and all five chained — each drawn per video from a fixed
# seed (server/evaluation/room-degradations.ts) — then the same scenes rendered with a soundfont
# training never used (csound's GM bank). Results: OUT/seedN/accuracy-<variant>-<degradation>.json
# and OUT/seedN-csound/; models/qstar/report.py OUT tables them beside the clean figures.
# Usage: models/robustness.sh [PROFILE] [OUT] [SEEDS...]   (VARIANT=full by default)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-models/tiny}
out=${2:-data/diagnose}
shift $(($# < 2 ? $# : 2))
seeds=("${@:-101 102}")
variant=${VARIANT:-full}
for seed in ${seeds[@]}; do
  set_dir="$out/seed$seed"
  [ -f "$set_dir/out/frontend/videos.json" ] || { echo "robustness: run models/diagnose.sh for seed $seed first" >&2; exit 1; }
  all="$set_dir/synth/avqa-all.json"
  for degrade in reverb noise mic-eq level codec all; do
    [ -f "$set_dir/out/frontend-$degrade/videos.json" ] ||
      npm run --silent extract -- --dataset "$set_dir/synth" --out "$set_dir/out" --degrade "$degrade"
    npm run --silent extract -- --dataset "$set_dir/synth" --out "$set_dir/out" --stage features --profile "$profile" --degrade "$degrade"
    npm run --silent eval -- --annotations "$all" --features "$set_dir/out/features-$degrade" --model "$profile" \
      --variant "$variant" --json > "$set_dir/accuracy-$variant-degraded-$degrade.json"
  done
  # The same scenes (plans, parts, pictures) with every stem in the unseen soundfont; their
  # questions are balanced anew from what those stems measure, so they differ a little.
  font_dir="$out/seed$seed-csound"
  [ -f "$font_dir/synth/stats.json" ] ||
    npm run --silent synth -- --scenes "${SCENES:-100}" --seconds 10 --seed "$seed" --questions-per-scene 30 \
      --soundfont csound --out "$font_dir/synth"
  [ -f "$font_dir/out/frontend/videos.json" ] || npm run --silent extract -- --dataset "$font_dir/synth" --out "$font_dir/out"
  npm run --silent extract -- --dataset "$font_dir/synth" --out "$font_dir/out" --stage features --profile "$profile"
  npm run --silent eval -- --annotations "$font_dir/synth/avqa-all.json" --features "$font_dir/out/features" \
    --model "$profile" --variant "$variant" --json > "$set_dir/accuracy-$variant-unseen-soundfont.json"
  echo "robustness: seed $seed → $set_dir"
done
