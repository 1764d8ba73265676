"""ONNX export of QSTar's head and the tiny profile's encoders, with dynamic batch, segments (T)
and words (L), plus a parity fixture for the TypeScript runtime.

    /usr/bin/python3 models/qstar/export.py parity OUT_DIR [--seed 0]
        Exports a randomly initialised small head (every module on, and the late-fusion baseline)
        and writes inputs and torch's outputs, for test/onnx-parity.test.ts to replay through
        onnxruntime-node.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import QStar, QStarConfig, QuestionEncoder  # noqa: E402

OPSET = 17
HEAD_INPUTS = ["frames", "patches", "audio", "ast", "words", "word_mask", "sentence", "segment_mask"]
HEAD_OUTPUTS = ["logits", "frequency", "spatial", "temporal"]
HEAD_AXES = {
    "frames": {0: "batch", 1: "segments"},
    "patches": {0: "batch", 1: "segments", 2: "patches"},
    "audio": {0: "batch", 1: "segments"},
    "ast": {0: "batch", 1: "segments", 2: "bands"},
    "words": {0: "batch", 1: "words"},
    "word_mask": {0: "batch", 1: "words"},
    "sentence": {0: "batch"},
    "segment_mask": {0: "batch", 1: "segments"},
    "logits": {0: "batch"},
    "frequency": {0: "batch", 1: "bands"},
    "spatial": {0: "batch", 1: "segments", 2: "patches"},
    "temporal": {0: "batch", 1: "segments"},
}


def example_inputs(c: QStarConfig, batch=2, segments=5, patches=6, bands=4, words=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    segment_mask = torch.ones(batch, segments, dtype=torch.bool)
    segment_mask[-1, segments - 2 :] = False  # a shorter window in the batch
    word_mask = torch.ones(batch, words, dtype=torch.bool)
    word_mask[0, words - 3 :] = False
    return {
        "frames": torch.randn(batch, segments, c.frame_dim, generator=g),
        "patches": torch.randn(batch, segments, patches, c.patch_dim, generator=g),
        "audio": torch.randn(batch, segments, c.audio_dim, generator=g),
        "ast": torch.randn(batch, segments, bands, c.ast_dim, generator=g),
        "words": torch.randn(batch, words, c.word_dim, generator=g),
        "word_mask": word_mask,
        "sentence": torch.randn(batch, c.word_dim, generator=g),
        "segment_mask": segment_mask,
    }


def export_head(model: QStar, path: str, inputs=None):
    model.eval()
    inputs = inputs or example_inputs(model.config)
    torch.onnx.export(
        model,
        tuple(inputs[name] for name in HEAD_INPUTS),
        path,
        input_names=HEAD_INPUTS,
        output_names=HEAD_OUTPUTS,
        dynamic_axes=HEAD_AXES,
        opset_version=OPSET,
    )


def export_question_encoder(encoder: QuestionEncoder, path: str, words=24):
    encoder.eval()
    ids = torch.zeros(1, words, dtype=torch.long)
    mask = torch.ones(1, words, dtype=torch.bool)
    torch.onnx.export(
        encoder,
        (ids, mask),
        path,
        input_names=["ids", "mask"],
        output_names=["words", "sentence"],
        dynamic_axes={"ids": {0: "batch", 1: "words"}, "mask": {0: "batch", 1: "words"}, "words": {0: "batch", 1: "words"}, "sentence": {0: "batch"}},
        opset_version=OPSET,
    )


def save_array(directory, name, tensor):
    array = tensor.detach().numpy()
    dtype = {np.dtype("float32"): "float32", np.dtype("bool"): "bool", np.dtype("int64"): "int64"}[array.dtype]
    array.astype(array.dtype.newbyteorder("<")).tofile(os.path.join(directory, f"{name}.bin"))
    return {"file": f"{name}.bin", "dtype": dtype, "shape": list(array.shape)}


def case(out_dir, prefix, model, inputs):
    with torch.no_grad():
        outputs = model(*(inputs[n] for n in HEAD_INPUTS))
    return {
        "inputs": {n: save_array(out_dir, f"{prefix}.in.{n}", inputs[n]) for n in HEAD_INPUTS},
        "outputs": {n: save_array(out_dir, f"{prefix}.out.{n}", t) for n, t in zip(HEAD_OUTPUTS, outputs)},
    }


def parity(out_dir, seed):
    """Small heads with random weights; inputs with padded segments and words; torch's outputs."""
    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    for name, overrides in (("full", {}), ("late_fusion", {"late_fusion": True}), ("no_tfi_sti", {"tfi": False, "sti": False})):
        torch.manual_seed(seed)
        config = QStarConfig(d_model=32, heads=4, frame_dim=24, patch_dim=20, audio_dim=16, ast_dim=12, word_dim=28, **overrides)
        model = QStar(config).eval()
        inputs = example_inputs(config, seed=seed)
        export_head(model, os.path.join(out_dir, f"{name}.onnx"), inputs)
        manifest[name] = {"model": f"{name}.onnx", "cases": [case(out_dir, f"{name}.0", model, inputs)]}
        # The same graph on another batch, window (T), patch grid (P), band count (F) and question (L).
        other = example_inputs(config, batch=1, segments=9, patches=5, bands=3, words=11, seed=seed + 1)
        manifest[name]["cases"].append(case(out_dir, f"{name}.1", model, other))
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"parity fixtures in {out_dir}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parity")
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.command == "parity":
        parity(args.out_dir, args.seed)


if __name__ == "__main__":
    main()
