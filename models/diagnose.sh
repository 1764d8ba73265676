#!/usr/bin/env bash
# Measures a profile on held-out scenes, as the README reports it: for each held-out data set
# (scenes from seeds never trained or tuned on), the template-majority prior, the served variants,
# the counterfactuals (silent audio, black picture, audio swapped across scenes) and the
# instrument probe. Results go to OUT/<set>/*.json; the held-out sets are made when missing.
# Usage: models/diagnose.sh [PROFILE] [OUT] [TRAIN_ANNOTATIONS] [SEEDS...]
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-models/tiny}
out=${2:-data/diagnose}
train=${3:-data/tiny-run/synth/avqa-train.json}
shift $(($# < 3 ? $# : 3))
seeds=("${@:-101 102}")
variants=${VARIANTS:-full late_fusion}
for seed in ${seeds[@]}; do
  set_dir="$out/seed$seed"
  mkdir -p "$set_dir"
  [ -f "$set_dir/synth/stats.json" ] ||
    npm run --silent synth -- --scenes "${SCENES:-100}" --seconds 10 --seed "$seed" --questions-per-scene 30 --out "$set_dir/synth"
  [ -f "$set_dir/out/frontend/videos.json" ] || npm run --silent extract -- --dataset "$set_dir/synth" --out "$set_dir/out"
  npm run --silent extract -- --dataset "$set_dir/synth" --out "$set_dir/out" --stage features --profile "$profile"
  all="$set_dir/synth/avqa-all.json"
  npm run --silent eval -- --annotations "$all" --template-prior "$train" --json > "$set_dir/prior.json"
  for variant in $variants; do
    npm run --silent eval -- --annotations "$all" --features "$set_dir/out/features" --model "$profile" --variant "$variant" \
      --json --write-predictions "$set_dir/predictions-$variant.jsonl" > "$set_dir/accuracy-$variant.json"
  done
  for counterfactual in silent-audio black-picture swap-audio; do
    npm run --silent extract -- --dataset "$set_dir/synth" --out "$set_dir/out" --stage features --profile "$profile" --counterfactual "$counterfactual"
    npm run --silent eval -- --annotations "$all" --features "$set_dir/out/features-$counterfactual" --model "$profile" \
      --json > "$set_dir/accuracy-full-$counterfactual.json"
  done
  npm run --silent probe -- --dataset "$set_dir/synth" --features "$set_dir/out/features" --model "$profile" --split all --json > "$set_dir/probe.json"
  echo "diagnose: seed $seed → $set_dir"
done
