#!/usr/bin/env bash
# One call on a lent GPU machine (its python3 has torch with CUDA; nothing else is installed):
# the paper encoders' PyTorch ceiling (bench_torch.py), then models/ablation.sh on the GPU over a
# bundle made here, stopped at a deadline so the call ends in time. Results go to OUT.
# Usage: models/gpu-session.sh BUNDLE.tar.xz OUT [TRAIN_SECONDS]
#   BENCH_SECONDS (120; 0 skips the PyTorch ceiling), SLIM (runs whose slim checkpoints come back;
#   6.6 MB each, and a call returns at most 8 files), and ablation.sh's VARIANTS, SEEDS, EXTRA
#   BUNDLE holds features/ (training features; float16 is enough), readouts.pt, heldout/<set>/
#   (held-out features, float32). OUT gets gpu.txt, bench-torch.{json,txt}, ablation.txt,
#   reports.tar.xz (head reports and logs) and the slim checkpoints SLIM names.
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=$1 out=$2 seconds=${3:-420}
work=$(mktemp -d)
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle" "$work" # no xz needed there
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)'; } >"$out/gpu.txt" 2>&1
[ "${BENCH_SECONDS:-120}" = 0 ] || PYTHONUNBUFFERED=1 timeout "${BENCH_SECONDS:-120}" python3 -W ignore models/qstar/bench_torch.py --repeats 15 --out "$out/bench-torch.json" >"$out/bench-torch.txt" 2>&1
started=$SECONDS
PYTHON=${PYTHON:-python3} DEVICE=${DEVICE:-cuda} PARALLEL=${PARALLEL:-7} timeout "$seconds" models/ablation.sh "$work/features" "$work/readouts.pt" "$work/ablation" \
  "$work"/heldout/* >"$out/ablation.txt" 2>&1
echo "ablation: $((SECONDS - started)) s (deadline $seconds s)" >>"$out/ablation.txt"
python3 -c 'import sys, tarfile; t = tarfile.open(sys.argv[1], "w:xz"); [t.add(f"{sys.argv[2]}/{n}", n) for n in sys.argv[3:]]' \
  "$out/reports.tar.xz" "$work/ablation" $(cd "$work/ablation" && ls -d head-report-*.json logs)
for run in ${SLIM:-}; do
  [ -f "$work/ablation/checkpoints/qstar-tiny-$run.pt" ] &&
    "${PYTHON:-python3}" -W ignore models/qstar/train.py export "$work/ablation/checkpoints/qstar-tiny-$run.pt" --slim "$out/$run.pt"
done
cat "$out/gpu.txt" "$out"/bench-torch.txt "$out/ablation.txt" 2>/dev/null
