"""The paper profile's encoders and head in PyTorch on a GPU: the ceiling the served ONNX path is
measured against (issue #15). Random weights (the architectures are what cost), full sizes.

    python3 models/qstar/bench_torch.py [--out RESULT.json] [--batches 1 8 32] [--repeats 30]

Per encoder and batch: median milliseconds per call (CUDA events, after warm-up), per item, in
float32 (TF32 off, as onnxruntime's CUDA provider computes by default) and in bfloat16 autocast.
Each live stream needs per 1 s hop one AST clip (100 fbank frames), one VGGish example, one CLIP
frame (224 × 224) and a head call for its standing questions (here 4, a 10 s window): the
ceiling in streams per GPU is 1 s over the per-stream cost at the largest batch.
"""

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import paper_encoders  # noqa: E402
from model import QStar, QStarConfig  # noqa: E402


def median_ms(fn, repeats):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


def inputs_for(name, batch, device):
    shapes = {"clip-visual": (batch, 3, 224, 224), "vggish": (batch, 96, 64), "ast": (batch, 100, 128)}
    return (torch.randn(*shapes[name], device=device),)


def head_inputs(config, questions, window, device):
    b, g = questions, torch.Generator(device="cpu").manual_seed(0)
    rand = lambda *shape: torch.randn(*shape, generator=g).to(device)
    return (
        rand(b, window, config.frame_dim), rand(b, window, 256, config.patch_dim), rand(b, window, config.audio_dim),
        rand(b, window, 12, config.ast_dim), rand(b, 12, config.word_dim), torch.ones(b, 12, dtype=torch.bool, device=device),
        rand(b, config.word_dim), torch.ones(b, window, dtype=torch.bool, device=device),
    )  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench_torch.py measures a GPU; torch sees none here")
    device = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    result = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "encoders": {}, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    encoders = {name: module.to(device).eval() for name, module, *_ in paper_encoders(small=False) if name != "clip-text"}
    for name, module in encoders.items():
        for precision in ("float32", "bfloat16"):
            for batch in args.batches:
                x = inputs_for(name, batch, device)

                def call():
                    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                        module(*x)

                ms = median_ms(call, args.repeats)
                result["encoders"].setdefault(name, {}).setdefault(precision, {})[batch] = {"ms_per_call": round(ms, 3), "ms_per_item": round(ms / batch, 4)}
                print(f"{name:12s} {precision:9s} batch {batch:3d}: {ms:8.2f} ms/call, {ms / batch:7.3f} ms/item", flush=True)
    config = QStarConfig(frame_dim=768, patch_dim=1024, audio_dim=128, ast_dim=768, word_dim=768)
    head = QStar(config).to(device).eval()
    x = head_inputs(config, 4, 10, device)
    for precision in ("float32", "bfloat16"):

        def call():
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                head(*x)

        ms = median_ms(call, args.repeats)
        result.setdefault("head_4_questions_10_s", {})[precision] = round(ms, 3)
        print(f"head (4 questions, 10 s window, 16×16 patches) {precision}: {ms:.2f} ms", flush=True)
    largest = max(args.batches)
    for precision in ("float32", "bfloat16"):
        per_stream = sum(result["encoders"][n][precision][largest]["ms_per_item"] for n in encoders) + result["head_4_questions_10_s"][precision]
        result.setdefault("streams_per_gpu_ceiling", {})[precision] = {"ms_per_stream_second": round(per_stream, 3), "streams": int(1000 // per_stream)}
        print(f"ceiling {precision}: {per_stream:.2f} ms of GPU per stream-second → {int(1000 // per_stream)} streams (encoders batched {largest}, head per stream)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
