"""
Moves a random-weight ONNX profile to another machine without its weights, for benchmarks only.

The paper profile with random weights (export.py paper … --profile) is 2.4 GB, and a lent GPU
machine takes 64 MiB a call; its timings do not depend on the weights' values, so `strip` keeps
each graph with its large float tensors emptied and their mean and spread noted, and `fill` draws
new values with that mean and spread (LayerNorm scales stay near 1, biases near 0), on the other
machine. A filled model computes the same shapes at the same cost; its answers mean nothing.

    python3 models/qstar/weightless.py strip PROFILE_DIR OUT_DIR   # every *.onnx; other files copied
    python3 models/qstar/weightless.py fill OUT_DIR PROFILE_DIR [--seed 0]
"""
import argparse
import json
import os
import shutil

import numpy as np
import onnx
from onnx import numpy_helper

SIDECAR = "weightless.json"
SMALLEST = 1024  # tensors this small (shapes, indices, constants) travel as they are


def strip(source, target):
    os.makedirs(target, exist_ok=True)
    notes = {}
    for name in sorted(os.listdir(source)):
        path = os.path.join(source, name)
        if not name.endswith(".onnx"):
            shutil.copy(path, os.path.join(target, name))
            continue
        model = onnx.load(path)
        emptied = {}
        for tensor in model.graph.initializer:
            if tensor.data_type != onnx.TensorProto.FLOAT or int(np.prod(tensor.dims)) < SMALLEST:
                continue
            values = numpy_helper.to_array(tensor)
            emptied[tensor.name] = [float(values.mean()), float(values.std())]
            tensor.ClearField("raw_data")
            tensor.ClearField("float_data")
        notes[name] = emptied
        onnx.save(model, os.path.join(target, name))
        print(f"{name}: {len(emptied)} tensors emptied")
    with open(os.path.join(target, SIDECAR), "w") as f:
        json.dump(notes, f)


def fill(source, target, seed):
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(source, SIDECAR)) as f:
        notes = json.load(f)
    rng = np.random.default_rng(seed)
    for name in sorted(os.listdir(source)):
        path = os.path.join(source, name)
        if name == SIDECAR:
            continue
        if name not in notes:
            shutil.copy(path, os.path.join(target, name))
            continue
        model = onnx.load(path)
        for tensor in model.graph.initializer:
            if tensor.name in notes[name]:
                mean, std = notes[name][tensor.name]
                values = rng.standard_normal(int(np.prod(tensor.dims)), dtype=np.float32) * std + mean
                tensor.raw_data = values.astype("<f4").tobytes()
        onnx.save(model, os.path.join(target, name))
        print(f"{name}: {len(notes[name])} tensors filled")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("strip")
    s.add_argument("source")
    s.add_argument("target")
    f = sub.add_parser("fill")
    f.add_argument("source")
    f.add_argument("target")
    f.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.command == "strip":
        strip(args.source, args.target)
    else:
        fill(args.source, args.target, args.seed)


if __name__ == "__main__":
    main()
