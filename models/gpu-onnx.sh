#!/usr/bin/env bash
# onnxruntime-node with CUDA on a lent GPU machine (issue #15 §6), in two calls, since at most 64 MiB
# travel per call and that machine has no Node. Made here (needs data/paper-random/profile from
# `export.py paper … --profile --per-question-head`, and the two packages `npm pack`ed and unpacked) by
#   models/gpu-onnx.sh pack .gpu/send PROVIDER_X64_DIR ONNXRUNTIME_NODE_1.29.0_DIR
# or, from a fresh clone, all of it (profile, packages, pack) by `models/gpu-onnx.sh ready .gpu/send`
# (`bundle .gpu/send ORT_DIR` remakes run.tar.xz and DIR/b/tiny after a code or model change):
#   DIR/a/node.xz        this machine's Node binary (official build: needs only glibc)
#   DIR/a/run.tar.xz     the bench bundled by esbuild (test/bench/run.ts and the inference worker),
#                        onnxruntime-node 1.29.0 (the CUDA 13 provider's version) with its common
#                        package, the paper profile without weights (models/qstar/weightless.py)
#   DIR/b/cuda.so.xz     Microsoft's CUDA 13 provider for onnxruntime 1.29.0 (npm run setup:cuda's
#                        source) with every GPU architecture's kernels but the H100/H200's (sm_90)
#                        zeroed (models/cuda_sm90_only.py): 230 MB → 38 MB compressed
#   DIR/b/tiny/          the shipped tiny profile's full variant
# There: `models/gpu-onnx.sh prepare DIR OUT` (call 1, carrying DIR/a: unpack, fill the weights,
# start the PyTorch ceiling on the same GPU in the background; TORCH=0 skips it), then at once
# `models/gpu-onnx.sh measure DIR OUT` (call 2, carrying DIR/b: the provider, its check, the bench
# for both profiles on CUDA; WORKERS, PAPER_STREAMS, TINY_STREAMS, STREAMS_ONLY=1 narrow it), or
# `models/gpu-onnx.sh ab DIR OUT` (call 2 instead: the paper profile's streams carried with each
# opt-in switch alone and together against the default, on the same card (warm calls) — hop
# batching, the pictures graph or TypeScript (auto times both at start off the CPU), the head
# computing per window what does not depend on the question (the default since session 22)
# against the same head gathering at its inputs (session 21) and fed a window per question, and
# onnxruntime's own thread count against the cores shared out among the workers, after both
# profiles' parity on CUDA (bench --parity) and a first try of WebGPU (tiny profile); OUT gets
# ab.txt, ab-NAME.json and parity-PROFILE[-webgpu].json; all of it does not fit one call's 600 s:
# AB_ONLY="parity default inputs-gathered" runs those alone, AB_SECONDS each configuration's limit). The
# untracked files must leave room: the working tree travels too (untrack models/tiny for the
# calls). OUT gets gpu.txt, bench-torch.json, onnx.txt (everything printed) and bench.tar.
set -uo pipefail
cd "$(dirname "$0")/.."
step=$1 dir=$(realpath -m "$2")
work=/tmp/tutti-gpu
# Two folders below the repository, as the bundle's import.meta.url needs, and under .gitignore's
# data/: between calls that machine deletes what the repository's .gitignore does not ignore.
bundle=$PWD/data/gpu-bundle
native=$bundle/node_modules/onnxruntime-node/bin/napi-v6/linux/x64

pack() {
  local cuda=$1 ort=$2 # the provider package's x64 folder, onnxruntime-node 1.29.0's package folder
  rm -rf "$dir" && mkdir -p "$dir/a" "$dir/b/tiny"
  bundle_bench "$ort"
  xz -T2 -6 -c "$(command -v node)" >"$dir/a/node.xz"
  /usr/bin/python3 models/cuda_sm90_only.py "$cuda/libonnxruntime_providers_cuda.so" "$work.cuda.so"
  xz -T2 -6 -c "$work.cuda.so" >"$dir/b/cuda.so.xz" && rm "$work.cuda.so"
  cp "$cuda/libonnxruntime_providers_shared.so" "$dir/b/"
  du -sh "$dir"/*
}

# DIR/a/run.tar.xz alone (after a change to the bench or the server code).
bundle_bench() {
  local ort=$1
  rm -rf "$bundle" && mkdir -p "$dir/a" "$bundle/wasm" "$bundle/node_modules"
  npx esbuild test/bench/run.ts server/encoders/inference-worker.ts test/bench/echo-inference-worker.ts --bundle --splitting --format=esm \
    --platform=node --target=node20 --outdir="$bundle" --entry-names='[name]' --out-extension:.js=.mjs \
    --external:onnxruntime-node --external:@napi-rs/canvas --external:naudiodon --external:better-sqlite3 \
    --external:playwright-core --log-level=warning
  cp server/features/video/wasm/pil-bicubic.wasm "$bundle/wasm/"
  cp -r "$ort" "$bundle/node_modules/onnxruntime-node"
  cp -r "$(dirname "$ort")/onnxruntime-common" "$bundle/node_modules/" # the same version, unpacked beside it
  [ -f data/paper-random/profile/qstar-paper-per-question.onnx ] || {
    echo "data/paper-random/profile needs the head per question too, for ab: export it with export.py paper … --profile --per-question-head" >&2
    exit 1
  }
  /usr/bin/python3 models/qstar/weightless.py strip data/paper-random/profile "$bundle/paper"
  mkdir -p "$dir/b/tiny" # the shipped tiny profile as it is now
  cp models/tiny/manifest.json models/tiny/tiny-{ast,audio,frame,question}.onnx models/tiny/qstar-tiny.onnx "$dir/b/tiny/"
  tar -C "$(dirname "$bundle")" -cJf "$dir/a/run.tar.xz" "$(basename "$bundle")"
}

# From a fresh clone to DIR ready for the device calls (3.4 minutes here, offline but for the
# npm registry): the random-weight paper profile with its head per question too, the two packages
# `npm pack`ed (only Linux x64 kept of onnxruntime-node), then pack.
ready() {
  local packages=$PWD/data/gpu-packages profile=data/paper-random/profile
  if [ ! -f $profile/qstar-paper-per-question.onnx ]; then
    mkdir -p data/paper-random
    # CLIP's merges are not to be had here: merges learned from the question space stand in.
    node --import tsx -e "
      import { writeFileSync } from 'node:fs';
      import { PLACEHOLDER_VALUES, TEMPLATES, fillTemplate } from './shared/question-space/index.ts';
      const lines = TEMPLATES.flatMap((t) => [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        fillTemplate(t, t.placeholders.map((p) => PLACEHOLDER_VALUES[p][i % PLACEHOLDER_VALUES[p].length]))));
      writeFileSync('data/paper-random/corpus.txt', lines.join('\\n'));" || exit 1
    /usr/bin/python3 models/reference/clip_tokenizer.py learn data/paper-random/corpus.txt data/paper-random/merges.txt --merges 400 || exit 1
    /usr/bin/python3 -W ignore models/qstar/export.py paper $profile --profile --merges data/paper-random/merges.txt --per-question-head || exit 1
  fi
  rm -rf "$packages" && mkdir -p "$packages/nm" && (
    cd "$packages" &&
      npm pack --silent onnxruntime-node@1.29.0 onnxruntime-common@1.29.0 com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 >/dev/null &&
      mkdir nm/onnxruntime-node nm/onnxruntime-common gpu &&
      tar -xzf onnxruntime-node-1.29.0.tgz -C nm/onnxruntime-node --strip-components 1 \
        --exclude 'package/bin/napi-v6/darwin' --exclude 'package/bin/napi-v6/win32' --exclude 'package/bin/napi-v6/linux/arm64' &&
      tar -xzf onnxruntime-common-1.29.0.tgz -C nm/onnxruntime-common --strip-components 1 &&
      tar -xzf com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz -C gpu package/Plugins/Linux/x64 &&
      rm ./*.tgz
  ) || exit 1
  pack "$packages/gpu/package/Plugins/Linux/x64" "$packages/nm/onnxruntime-node"
}

prepare() {
  local out=$1
  # What an earlier call left on the same machine (under /tmp, which stays while it is held) is kept.
  [ -x $work/node ] || { mkdir -p $work && xz -dc "$dir/a/node.xz" >$work/node && chmod +x $work/node; }
  mkdir -p "$(dirname "$bundle")" && tar -C "$(dirname "$bundle")" -xJf "$dir/a/run.tar.xz"
  { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; $work/node --version; } >"$out/gpu.txt" 2>&1
  [ -d $work/paper ] || python3 models/qstar/weightless.py fill "$bundle/paper" $work/paper >>"$out/gpu.txt" 2>&1
  # The ceiling, on this GPU alone before onnxruntime uses it (measure waits for it).
  [ "${TORCH:-1}" = 0 ] && touch $work/torch.done # TORCH=0: no PyTorch ceiling this time
  [ -f $work/torch.done ] || setsid bash -c "PYTHONUNBUFFERED=1 timeout 150 python3 -W ignore models/qstar/bench_torch.py --repeats 15 \
    --out $work/bench-torch.json >$work/bench-torch.txt 2>&1; touch $work/torch.done" </dev/null >/dev/null 2>&1 &
  cat "$out/gpu.txt"
}

# The CUDA provider beside onnxruntime-node, and the command that runs Node with CUDA's libraries.
with_cuda() {
  rm -rf test-results/bench # only this call's results go back
  xz -dc "$dir/b/cuda.so.xz" >"$native/libonnxruntime_providers_cuda.so"
  cp "$dir/b/libonnxruntime_providers_shared.so" "$native/"
  # pip's CUDA 13 wheels in the PyTorch environment; for Node alone (a system tool must not see them).
  local libraries=$(find /opt -path '*site-packages/nvidia/*' -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd:)
  node="env LD_LIBRARY_PATH=$libraries TUTTI_PROVIDER=${PROVIDER:-cuda} $work/node" # PROVIDER=cpu: a dry run anywhere
  webgpu_node="env TUTTI_PROVIDER=webgpu $work/node" # Dawn on the card's Vulkan driver, where it has one
}

measure() {
  local out=$1 node
  with_cuda
  {
    $node scripts/setup-cuda.mjs --check --native "$native"
    while [ ! -f $work/torch.done ]; do sleep 1; done
    cat $work/bench-torch.txt 2>/dev/null
    # STREAMS_ONLY=1: the encoders' table was measured before; WORKERS: TUTTI_INFERENCE_WORKERS tried.
    local args="--batches 1,8,32 --workers ${WORKERS:-1,4,8} --seconds 8 ${STREAMS_ONLY:+--streams-only}"
    timeout 300 $node "$bundle/run.mjs" --profile $work/paper $args --streams ${PAPER_STREAMS:-8,16,24,32,48,64,96,128,160,192}
    timeout 150 $node "$bundle/run.mjs" --profile "$dir/b/tiny" $args --streams ${TINY_STREAMS:-16,32,64,128,192,256,384,512}
  } 2>&1 | tee "$out/onnx.txt"
  cp $work/bench-torch.json "$out/" 2>/dev/null
  tar -C test-results -cf "$out/bench.tar" bench
}

# Streams carried by the paper profile with each switch, on one card; the first line is the default.
# `echo`: workers that compute nothing (test/bench/echo-inference-worker.ts), the monitor's side alone.
ab() {
  local out=$1 node webgpu_node name switches profile
  with_cuda
  # The same head as exported before session 22: gathering each question's window at its inputs,
  # so all of it computed per question (inputs-gathered, session 21), and before that taking a
  # window per question (repeated).
  for name in repeated inputs-gathered; do
    [ -d $work/paper-$name ] && continue
    mkdir -p $work/paper-$name && ln -sf $work/paper/* $work/paper-$name/
    rm $work/paper-$name/qstar-paper.onnx && cp $work/paper/qstar-paper-per-question.onnx $work/paper-$name/qstar-paper.onnx
  done
  [ -f $work/paper-inputs-gathered/.done ] || {
    python3 -W ignore models/qstar/export.py windows-once $work/paper-inputs-gathered/qstar-paper.onnx && touch $work/paper-inputs-gathered/.done
  }
  {
    $node scripts/setup-cuda.mjs --check --native "$native"
    # What CUDA computes against the references (front-end graphs vs TypeScript, encoders and head vs the CPU).
    if [ -z "${AB_ONLY:-}" ] || [[ " $AB_ONLY " == *" parity "* ]]; then
      timeout 120 $node "$bundle/run.mjs" --profile $work/paper --parity
      timeout 60 $node "$bundle/run.mjs" --profile "$dir/b/tiny" --parity
      cp test-results/bench/parity-*.json "$out/" 2>/dev/null
    fi
    # WebGPU has never run on a GPU: whether it starts, what it computes, the tiny streams it carries.
    if [ -z "${AB_ONLY:-}" ] || [[ " $AB_ONLY " == *" webgpu "* ]]; then
      echo "== webgpu (tiny profile)"
      rm -f test-results/bench/parity-tiny.json
      timeout 60 $webgpu_node "$bundle/run.mjs" --profile "$dir/b/tiny" --parity && cp test-results/bench/parity-tiny.json "$out/parity-tiny-webgpu.json"
      timeout 60 $webgpu_node "$bundle/run.mjs" --profile "$dir/b/tiny" --streams-only --seconds 8 --streams 16,64,192 \
        && cp test-results/bench/streams-tiny-1-workers.json "$out/ab-webgpu-tiny.json"
    fi
    while read -r name switches; do
      [ -n "${AB_ONLY:-}" ] && [[ " $AB_ONLY " != *" $name "* ]] && continue
      profile=$work/paper && [ -d "$work/paper-$name" ] && profile=$work/paper-$name
      echo "== $name: ${switches:-the defaults}"
      local settings="" flags="" streams=${PAPER_STREAMS:-64,96,128,160} token
      for token in $switches; do [[ $token == --* ]] && flags+=" $token" || settings+=" $token"; done
      [[ " $flags " == *" --echo "* ]] && streams=${ECHO_STREAMS:-160,200,256,320}
      timeout ${AB_SECONDS:-110} env $settings $node "$bundle/run.mjs" --profile $profile --streams-only --workers ${WORKERS:-8} \
        --seconds 8 --streams $streams $flags </dev/null # stdin is the list below
      cp "$(ls -t test-results/bench/streams-paper-*.json | head -1)" "$out/ab-$name.json" 2>/dev/null
    done <<EOF
default
hop-batch TUTTI_HOP_BATCH=8
pictures-graph TUTTI_PICTURES_FRONTEND=graph
pictures-typescript TUTTI_PICTURES_FRONTEND=typescript
both TUTTI_HOP_BATCH=8 TUTTI_PICTURES_FRONTEND=graph
inputs-gathered
repeated
onnxruntime-threads TUTTI_ONNX_THREADS=0
echo --echo
EOF
  } 2>&1 | tee "$out/ab.txt"
}

case $step in
ready) ready ;;
pack) pack "$3" "$4" ;;
bundle) bundle_bench "$3" ;;
prepare) prepare "$3" ;;
measure) measure "$3" ;;
ab) ab "$3" ;;
*) echo "usage: $0 ready|pack|bundle|prepare|measure|ab DIR …" >&2 && exit 2 ;;
esac
