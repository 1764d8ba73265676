"""Training for the `tiny` profile, in two stages (Debian's /usr/bin/python3 with torch):

    train.py encoders --frontend OUT/frontend --dataset SYNTH_DIR --out models/tiny [--epochs 6]
        Pretrains the tiny frozen encoders on the synthetic scenes' per-second ground truth
        (which classes sound; which classes are seen, and playing, in each third of the stage),
        then exports them to ONNX. Mirrors the paper's frozen pretrained extractors.

    train.py head --features OUT/features --out models/tiny [--variant full] [--epochs 30]
        Trains the question encoder and QSTar's head on the encoders' features with the paper's
        recipe (cross-entropy, AdamW 1e-4, ×0.1 every 10 epochs, batch 64, 30 epochs), keeps the
        best epoch on validation, exports both to ONNX. Variants: full, no_qgmc, no_sti, no_tfi,
        no_qcr, no_all, late_fusion.

    --max-steps N stops early (CI's smoke run).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import OPSET, export_head, export_question_encoder  # noqa: E402
from model import QStar, QStarConfig, QuestionEncoder, TinyAST, TinyAudioClip, TinyFrame  # noqa: E402

INSTRUMENTS = [
    "accordion", "acoustic_guitar", "bagpipe", "banjo", "bassoon", "cello", "clarinet", "congas", "drum",
    "electric_bass", "erhu", "flute", "guzheng", "piano", "pipa", "saxophone", "suona", "trumpet", "tuba",
    "ukulele", "violin", "xylophone",
]  # fmt: skip
REGIONS = ["left", "middle", "right"]
CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
VARIANTS = {
    "full": {},
    "no_qgmc": {"qgmc": False},
    "no_sti": {"sti": False},
    "no_tfi": {"tfi": False},
    "no_qcr": {"qcr": False},
    "no_all": {"qgmc": False, "sti": False, "tfi": False, "qcr": False},
    "late_fusion": {"late_fusion": True},
}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def is_validation(video_index):
    """Scenes 8 of every ten validate, 9 test (as the synthetic dataset splits them)."""
    return video_index % 10 == 8


def normalise_pixels(pixels):
    """uint8 (N, H, W, 3) → CLIP-normalised (N, 3, H, W), as server/features/video normalises."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).float() / 255.0
    return (x - CLIP_MEAN) / CLIP_STD


# ---------------------------------------------------------------------------- stage 1: encoders


def segment_targets(dataset, videos, segments):
    """Per (video, second): sounding classes (22); seen classes per region (66); playing ones (66)."""
    heard = np.zeros((len(videos), segments, 22), np.float32)
    seen = np.zeros((len(videos), segments, 66), np.float32)
    playing = np.zeros((len(videos), segments, 66), np.float32)
    for v, video in enumerate(videos):
        with open(os.path.join(dataset, "truth", f"{video}.json")) as f:
            truth = json.load(f)
        for p in truth["performers"]:
            c = INSTRUMENTS.index(p["instrument"])
            for s in range(segments):
                if p["active"][s]:
                    heard[v, s, c] = 1
                if p["region"] is not None:
                    slot = REGIONS.index(p["region"]) * 22 + c
                    seen[v, s, slot] = 1
                    playing[v, s, slot] = float(p["active"][s])
    return heard, seen, playing


class Probe(nn.Module):
    """An encoder with a linear read-out that is thrown away after pretraining."""

    def __init__(self, encoder, features, outputs):
        super().__init__()
        self.encoder, self.readout = encoder, nn.Linear(features, outputs)

    def forward(self, x):
        out = self.encoder(x)
        pooled = out[0] if isinstance(out, tuple) else out
        return self.readout(pooled.mean(1) if pooled.dim() == 3 else pooled)


def pretrain(name, probe, inputs, targets, train_idx, val_idx, epochs, batch, max_steps):
    optimiser = torch.optim.AdamW(probe.parameters(), lr=2e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=epochs * ((len(train_idx) + batch - 1) // batch))
    # Few labels are on in any second: weigh the positives up so the probe does not learn "none".
    positive_weight = torch.full((targets.shape[1],), 4.0)
    steps = 0
    for epoch in range(epochs):
        probe.train()
        order = train_idx[torch.randperm(len(train_idx))]
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            loss = F.binary_cross_entropy_with_logits(probe(inputs(idx)), targets[idx], pos_weight=positive_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            steps += 1
            if max_steps and steps >= max_steps:
                break
        probe.eval()
        with torch.no_grad():
            logits = torch.cat([probe(inputs(val_idx[i : i + 256])) for i in range(0, len(val_idx), 256)])
            truth = targets[val_idx]
            predicted = logits > 0
            accuracy = (predicted.float() == truth).float().mean().item()
            positives = (predicted & (truth > 0)).sum().item()
            recall = positives / max(1, truth.sum().item())
            precision = positives / max(1, predicted.sum().item())
        log(f"{name} epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, val label accuracy {accuracy:.4f}, precision {precision:.3f}, recall {recall:.3f}")
        if max_steps and steps >= max_steps:
            break
    return {"val_label_accuracy": accuracy, "val_precision": precision, "val_recall": recall}


def train_encoders(args):
    with open(os.path.join(args.frontend, "videos.json")) as f:
        index = json.load(f)
    videos, segments = index["videos"], index["segments"]
    fbank = torch.from_numpy(np.load(os.path.join(args.frontend, "fbank.npy"))).flatten(0, 1)
    logmel = torch.from_numpy(np.load(os.path.join(args.frontend, "logmel.npy"))).flatten(0, 1)
    pixels = np.load(os.path.join(args.frontend, "pixels.npy"), mmap_mode="r").reshape(-1, *index_shape(args.frontend))
    heard, seen, playing = (torch.from_numpy(t).flatten(0, 1) for t in segment_targets(args.dataset, videos, segments))
    video_of = torch.arange(len(videos)).repeat_interleave(segments)
    val_mask = torch.tensor([is_validation(v) for v in video_of.tolist()])
    train_idx, val_idx = torch.nonzero(~val_mask).flatten(), torch.nonzero(val_mask).flatten()
    log(f"pretraining encoders on {len(train_idx)} segments, validating on {len(val_idx)}")

    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    d = args.encoder_dim
    report = {}
    ast, audio, frame = TinyAST(d), TinyAudioClip(d), TinyFrame(d)
    report["ast"] = pretrain("ast", Probe(ast, d, 22), lambda i: fbank[i], heard, train_idx, val_idx, args.epochs, 128, args.max_steps)
    report["audio"] = pretrain("audio", Probe(audio, d, 22), lambda i: logmel[i], heard, train_idx, val_idx, args.epochs, 128, args.max_steps)
    frame_targets = torch.cat([seen, playing], dim=1)
    report["frame"] = pretrain(
        "frame", Probe(frame, d, 132), lambda i: normalise_pixels(pixels[i.numpy()]), frame_targets, train_idx, val_idx, args.epochs, 128, args.max_steps
    )
    for module in (ast, audio, frame):
        module.eval()
    export_encoder(ast, torch.zeros(1, 100, 128), ["fbank"], ["tokens"], os.path.join(args.out, "tiny-ast.onnx"))
    export_encoder(audio, torch.zeros(1, 96, 64), ["logmel"], ["embedding"], os.path.join(args.out, "tiny-audio.onnx"))
    export_encoder(frame, torch.zeros(1, 3, 64, 128), ["image"], ["embedding", "patches"], os.path.join(args.out, "tiny-frame.onnx"))
    with open(os.path.join(args.out, "encoders-report.json"), "w") as f:
        json.dump({"encoder_dim": d, "epochs": args.epochs, "segments": len(video_of), **report}, f, indent=1)
    log(f"encoders exported to {args.out}")


def index_shape(frontend):
    with open(os.path.join(frontend, "videos.json")) as f:
        spec = json.load(f)["spec"]
    return (spec["frameHeight"], spec["frameWidth"], 3)


def export_encoder(module, example, inputs, outputs, path):
    axes = {name: {0: "batch"} for name in inputs + outputs}
    torch.onnx.export(module, (example,), path, input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=OPSET)


# ---------------------------------------------------------------------------- stage 2: head


class Questions(torch.utils.data.Dataset):
    def __init__(self, features, split):
        with open(os.path.join(features, f"questions-{split}.json")) as f:
            self.items = json.load(f)
        self.words = max(len(q["ids"]) for q in self.items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        q = self.items[i]
        ids = torch.zeros(self.words, dtype=torch.long)
        ids[: len(q["ids"])] = torch.tensor(q["ids"])
        return q["video"], ids, len(q["ids"]), q["answer"]


class Features:
    """Per-video encoder outputs, whole in memory (the tiny profile's are small)."""

    def __init__(self, directory):
        load = lambda name: torch.from_numpy(np.load(os.path.join(directory, f"{name}.npy")))
        self.frames, self.patches = load("frames"), load("patches")
        self.audio, self.ast = load("audio"), load("ast")

    def batch(self, videos):
        segments = self.frames.shape[1]
        mask = torch.ones(len(videos), segments, dtype=torch.bool)
        return self.frames[videos], self.patches[videos], self.audio[videos], self.ast[videos], mask


class QStarWithQuestions(nn.Module):
    def __init__(self, config, vocabulary_size):
        super().__init__()
        self.questions = QuestionEncoder(vocabulary_size, config.word_dim)
        self.head = QStar(config)

    def forward(self, features, ids, word_mask):
        frames, patches, audio, ast, segment_mask = features
        words, sentence = self.questions(ids, word_mask)
        return self.head(frames, patches, audio, ast, words, word_mask, sentence, segment_mask)


def evaluate(model, loader, features):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for videos, ids, lengths, answers in loader:
            word_mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            logits = model(features.batch(videos), ids, word_mask)[0]
            correct += (logits.argmax(-1) == answers).sum().item()
            total += len(answers)
    return correct / max(1, total)


def train_head(args):
    with open(os.path.join(args.features, "features.json")) as f:
        info = json.load(f)
    features = Features(args.features)
    train, val = Questions(args.features, "train"), Questions(args.features, "val")
    config = QStarConfig(
        d_model=args.d_model, heads=4, dropout=0.1, frame_dim=features.frames.shape[-1], patch_dim=features.patches.shape[-1],
        audio_dim=features.audio.shape[-1], ast_dim=features.ast.shape[-1], word_dim=args.d_model, **VARIANTS[args.variant],
    )  # fmt: skip
    torch.manual_seed(args.seed)
    model = QStarWithQuestions(config, len(info["vocabulary"]))
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.StepLR(optimiser, step_size=args.step_epochs, gamma=0.1)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, shuffle=True)
    val_loader = torch.utils.data.DataLoader(val, batch_size=256)
    log(f"{args.variant}: {sum(p.numel() for p in model.parameters())} parameters, {len(train)} train / {len(val)} val questions")
    best, best_state, steps, history = -1.0, None, 0, []
    for epoch in range(args.epochs):
        model.train()
        started = time.time()
        for videos, ids, lengths, answers in loader:
            word_mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
            loss = F.cross_entropy(model(features.batch(videos), ids, word_mask)[0], answers)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            steps += 1
            if args.max_steps and steps >= args.max_steps:
                break
        schedule.step()
        accuracy = evaluate(model, val_loader, features)
        history.append({"epoch": epoch + 1, "loss": loss.item(), "val_accuracy": accuracy})
        log(f"{args.variant} epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, val accuracy {accuracy:.4f} ({time.time() - started:.1f} s)")
        if accuracy > best:
            best, best_state = accuracy, {k: v.clone() for k, v in model.state_dict().items()}
        if args.max_steps and steps >= args.max_steps:
            break
    model.load_state_dict(best_state)
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    suffix = "" if args.variant == "full" else f"-{args.variant}"
    export_question_encoder(model.questions, os.path.join(args.out, f"tiny-question{suffix}.onnx"))
    export_head(model.head, os.path.join(args.out, f"qstar-tiny{suffix}.onnx"))
    torch.save({"config": config.to_dict(), "state": model.state_dict()}, os.path.join(args.checkpoints, f"qstar-tiny{suffix}.pt"))
    with open(os.path.join(args.out, f"head-report{suffix}.json"), "w") as f:
        json.dump({"variant": args.variant, "config": config.to_dict(), "best_val_accuracy": best, "history": history}, f, indent=1)
    log(f"{args.variant}: best val accuracy {best:.4f}; exported to {args.out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("encoders")
    e.add_argument("--frontend", required=True)
    e.add_argument("--dataset", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--epochs", type=int, default=6)
    e.add_argument("--encoder-dim", type=int, default=64)
    h = sub.add_parser("head")
    h.add_argument("--features", required=True)
    h.add_argument("--out", required=True)
    h.add_argument("--checkpoints", default="/tmp")
    h.add_argument("--variant", choices=sorted(VARIANTS), default="full")
    h.add_argument("--epochs", type=int, default=30)
    h.add_argument("--step-epochs", type=int, default=10)
    h.add_argument("--batch", type=int, default=64)
    h.add_argument("--lr", type=float, default=1e-4)
    h.add_argument("--d-model", type=int, default=64)
    for p in (e, h):
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--max-steps", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    (train_encoders if args.command == "encoders" else train_head)(args)


if __name__ == "__main__":
    main()
