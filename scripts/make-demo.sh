#!/usr/bin/env bash
# Regenerates the demo clip that `npm start` plays (server/sources/demo/): one 40 s scene from the
# synthetic scene generator, 640×360 at 15 fps. Seed 1549 gives an indoor trio — piano (middle),
# clarinet (right) and flute (left, drawn exactly like the clarinet) — coming in one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
npm run synth -- --scenes 1 --seconds 40 --seed 1549 --width 640 --height 360 --fps 15 --questions-per-scene 40 --out "$out"
cp "$out/videos/00000001.mp4" server/sources/demo/demo.mp4
cp "$out/truth/00000001.json" server/sources/demo/demo.truth.json
cat "$out/avqa-train.json" > server/sources/demo/demo.questions.json
rm -rf "$out"
ls -la server/sources/demo
