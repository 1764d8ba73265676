"""Training for the `tiny` profile, in two stages (Debian's /usr/bin/python3 with torch):

    train.py encoders --frontend OUT/frontend --dataset SYNTH_DIR --out models/tiny [--epochs 12]
                      [--only ast audio frame onsets] [--checkpoints DIR] [--room-frontend OUT/frontend-all ...]
        Pretrains the tiny frozen encoders on the synthetic scenes' per-second ground truth
        (scene_truth.py: per class whether it sounds, how loud, its onsets and pitch, the
        voiceover; per stage column which classes stand and play, the venue, how many perform),
        with level changes, mixes and SpecAugment for audio and left-right flips for frames, then
        exports them to ONNX. Mirrors the paper's frozen pretrained extractors. Test scenes are
        never used; validation scenes give the probes in encoders-report.json. --room-frontend:
        front-ends of the same scenes through a room (`npm run extract -- --degrade all
        --degrade-seed N`, a seed the held-out sets do not use); each training example's audio is
        drawn from the clean front-end or one of these, so the audio encoders learn what a real
        room and microphone do to the mix (validation stays clean; the rooms' is reported beside).
        onsets (after audio; session 17): model.py's TinyOnsets, taught at 10 ms where notes
        start (scene_truth.onset_frames) and per second what sounds and how many notes, then
        joined to OUT/tiny-audio.onnx (export.py's join_onsets: the clip graph kept, 44 facts
        appended to its embedding; joined again, the clip part stays and the facts are replaced).

    train.py head --features OUT/features --out models/tiny [--variant full] [--epochs 30]
                  [--lr 1e-4] [--d-model 64] [--window-summary] [--class-slots [--class-answers] [--performers]]
                  [--seed 0] [--resume] [--oracle SYNTH_DIR]
        Trains the question encoder and QSTar's head on the encoders' features (defaults: the
        paper's recipe — cross-entropy, AdamW 1e-4, ×0.1 every 10 epochs, batch 64, 30 epochs),
        keeps the best epoch on validation, reports test accuracy per type, exports both to ONNX
        (seed 0 only: other seeds are measured, not shipped). A checkpoint is written every epoch;
        --resume goes on from it. --oracle feeds the ground truth's per-second facts instead of
        the features: the head's ceiling. Variants: full, no_qgmc, no_sti, no_tfi, no_qcr,
        no_all, late_fusion. --class-slots, --class-answers and --performers add model.py's ClassSlots,
        ClassAnswers and Performers (not in the paper) to any variant but late fusion.
        --room-features (the scenes' features through rooms) draws each example's audio from the
        clean or a room's extraction; --silence SHARE --silent-features F --dataset SYNTH_DIR
        gives that share of the questions silence leaves answerable silent audio and silence's
        answer (nothing heard: "no", "zero"; sight questions keep theirs).

    train.py readouts --features OUT/features --dataset SYNTH_DIR --out READOUTS.pt
        Fits, on the frozen encoders' features of the training scenes, linear maps to the facts
        they were pretrained on (model.py's Concepts): per class sounds, loudness, onsets, pitch,
        voiceover (from audio + AST features), per stage column who stands and plays (patch
        tokens), classes seen, venue, count (frame embedding). Validation F1s go beside the maps
        (READOUTS.json). `head --concepts READOUTS.pt` appends them to the head's streams;
        `head --performer-facts` also ranks them per performer. --heard-hidden N reads which
        classes sound by an MLP on the audio features and sight's readouts instead (model.py's
        sighted_hearing), taught with --silent-features that silent audio sounds of nothing.
        --sight-from CHECKPOINT keeps a trained head's maps of what is seen and fits only what
        reads the audio (the audio encoder changed, the frame encoder did not).

    train.py head … --device cuda --held-out HELDOUT/out/features …
        Trains on a GPU where one is at hand; reports accuracy on every question of held-out sets.

    train.py head … --init-from CHECKPOINT [--heard-count] [--sound-in-view] [--onset-rates]
                  [--train-only head.rules.heard_gain head.rules.view_gain]
        Starts from a trained head of the same configuration; rules it lacks (their own gain
        layers) start fresh, and --train-only trains those alone, the rest frozen
        (models/added-rules.sh, session 19).

    train.py export CHECKPOINT --out DIR [--variant full] [--slim SLIM.pt] [--lookalikes-by-sound]
                    [--stereo-templates TEMPLATES.json] [--readouts READOUTS.pt] [--onset-rates]
        Re-exports a head's best epoch (question encoder + head ONNX) from its checkpoint without
        training; --slim also (or, without --out, only) writes the checkpoint without optimiser
        state (a fifth the size), its config holding the rules given here. --readouts puts
        Concepts' maps fitted again into it; where they read a wider audio stream (onsets joined
        to the audio encoder), the head's learned weights read the new dimensions as zero
        (export.py's with_readouts; models/join-onsets.sh).

    train.py stereo-templates --features OUT/features --dataset SYNTH_DIR --out TEMPLATES.json
        Per class (and the voiceover) the mean share of each mel band in the training scenes'
        seconds where it plays alone, from OUT/features/stereo.npy (`npm run extract`); `export
        --stereo-templates TEMPLATES.json` gives a head with StageRules the stereo input
        (model.py's stereo_power: who is louder, and which of two of a class sounds, by where
        each sound stands).

    --max-steps N stops early (CI's smoke run).
"""

import argparse
import json
import math
import os
import sys
import time

# Debian's numpy and torch do their matrix work in OpenBLAS's own threads, which
# torch.set_num_threads does not reach: a head "on one thread" kept a second core busy, and two
# runs on two cores went from 1.8 to 3.1 steps/s each with OPENBLAS_NUM_THREADS=1. It must be set
# before numpy loads OpenBLAS; the encoders (convolutions) keep every core.
if sys.argv[1:2] != ["encoders"]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import ANSWER_ORDER, OPSET, export_head, export_question_encoder, join_onsets, with_readouts  # noqa: E402
from model import COUNT_WORDS, QStar, QStarConfig, QuestionEncoder, TinyAST, TinyAudioClip, TinyFrame, TinyOnsets, sight_of_classes, sighted_hearing, word_codes  # noqa: E402
from scene_truth import CLASSES, COLUMNS, INSTRUMENTS, LOOKALIKE_PAIRS, SILENT_DB, audio_targets, frame_targets, onset_frames, oracle_features, read_truths, region_of  # noqa: E402

CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
ENCODERS = ("ast", "audio", "frame", "onsets")  # onsets: TinyOnsets, joined to the audio encoder's graph
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


def is_test(video_index):
    return video_index % 10 == 9


def normalise_pixels(pixels):
    """uint8 (N, H, W, 3) → CLIP-normalised (N, 3, H, W), as server/features/video normalises."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).float() / 255.0
    return (x - CLIP_MEAN) / CLIP_STD


# ---------------------------------------------------------------------------- stage 1: encoders
# AST normalises log mel power as (x + 4.2677393) / (2 · 4.5689974); VGGish takes log(|mel| + 0.01).
AST_MEAN, AST_SCALE = -4.2677393, 2 * 4.5689974
LN10 = math.log(10.0)


def ast_to_power_log(x):
    return x * AST_SCALE + AST_MEAN


def power_log_to_ast(x):
    return (x - AST_MEAN) / AST_SCALE


def mel_to_power_log(x):
    return 2 * torch.log((torch.exp(x) - 0.01).clamp(min=1e-6))


def power_log_to_mel(x):
    return torch.log(torch.exp(x / 2) + 0.01)


class AudioReadout(nn.Module):
    """Per-class presence, loudness, onsets, pitch, and the voiceover, read linearly from an
    audio encoder's output; thrown away after pretraining (the head reads the features)."""

    def __init__(self, features):
        super().__init__()
        self.linear = nn.Linear(features, 4 * CLASSES + 1)

    def forward(self, features):
        out = self.linear(features.flatten(1))
        heard, loudness, onsets, pitch = out[:, : 4 * CLASSES].split(CLASSES, dim=1)
        return {"heard": heard, "loudness": loudness, "onsets": onsets, "pitch": pitch, "voice": out[:, -1:]}


def audio_loss(out, target):
    """Presence and voiceover by cross-entropy; loudness (per 10 dB), log onsets and pitch (per
    octave) by squared error where the class sounds."""
    heard = target["heard"]
    masked = lambda a, b, where: ((a - b) ** 2 * where).sum() / where.sum().clamp(min=1)
    return (
        F.binary_cross_entropy_with_logits(out["heard"], heard)
        + F.binary_cross_entropy_with_logits(out["voice"], target["voice"])
        + 0.3 * masked(out["loudness"], (target["loudness"] + 30) / 10, heard)
        + 0.3 * masked(out["onsets"], torch.log1p(target["onsets"]), heard)
        + 0.3 * masked(out["pitch"], (target["pitch"] - 60) / 12, heard * (target["pitch"] > 0))
    )


class OnsetReadout(nn.Module):
    """TinyOnsets' frame logits as the loss and metrics read them (nothing to learn here)."""

    def forward(self, out):
        return {"onset": out[0], "sounds": out[1]}


def onsets_loss(out, target):
    """Per frame and class whether a note starts (cross-entropy, positives weighted 10: one frame
    in ~50 holds one); per second whether the class sounds (its loudest frame); and the onsets
    counted over the second against the truth's, in log(1 + n), where it sounds."""
    per_second = TinyOnsets.per_second(out["onset"], out["sounds"])
    count, sounds = per_second[:, :CLASSES], per_second[:, CLASSES:]
    heard = target["heard"]
    frames = F.binary_cross_entropy_with_logits(out["onset"], target["onset_frames"], pos_weight=torch.tensor(10.0))
    counted = ((count - torch.log1p(target["onsets"])) ** 2 * heard).sum() / heard.sum().clamp(min=1)
    return frames + F.binary_cross_entropy_with_logits(sounds, heard) + counted


def onsets_metrics(out, target):
    per_second = TinyOnsets.per_second(out["onset"], out["sounds"])
    heard = target["heard"] > 0
    return {
        "presence_macro_f1": presence_f1(per_second[:, CLASSES:], target["heard"])[0],
        "log_onsets_mae": (per_second[:, :CLASSES] - torch.log1p(target["onsets"])).abs()[heard].mean().item(),
    }


def mix_audio(x, target, to_power_log, from_power_log, power_per_db):
    """Level changes and mixes (augmentation): every example gets a random gain of ±6 dB, and half
    of them are summed (in power) with another example of the batch at a random level; the mix's
    targets are the union of both parts (each part keeps its own loudness)."""
    n = x.shape[0]
    gain = torch.empty(n).uniform_(-6, 6)
    partner = torch.randperm(n)
    mixed = torch.rand(n) < 0.5
    partner_gain = gain[partner] + torch.empty(n).uniform_(-10, 4)
    own = to_power_log(x) + (gain * power_per_db).view(n, 1, 1)
    other = to_power_log(x[partner]) + (partner_gain * power_per_db).view(n, 1, 1)
    both = torch.logaddexp(own, other)
    x = from_power_log(torch.where(mixed.view(n, 1, 1), both, own))
    m = mixed.float().view(n, 1)
    louder = lambda db, shift: torch.where(db > SILENT_DB, db + shift.view(n, 1), torch.full_like(db, SILENT_DB))
    own_loud, other_loud = louder(target["loudness"], gain), louder(target["loudness"][partner], partner_gain)
    target = {
        "heard": torch.maximum(target["heard"], target["heard"][partner] * m),
        "loudness": torch.where(m > 0, torch.maximum(own_loud, other_loud), own_loud),
        "onsets": target["onsets"] + target["onsets"][partner] * m,
        "pitch": torch.where((m > 0) & (other_loud > own_loud), target["pitch"][partner], target["pitch"]),
        "voice": torch.maximum(target["voice"], target["voice"][partner] * m),
    }
    return x, target


def spec_augment(x, max_time=8, max_freq=10):
    """One time mask and one frequency mask per example, filled with the example's mean."""
    n, frames, bins = x.shape
    x = x.clone()
    for i in range(n):
        t, f = np.random.randint(0, max_time + 1), np.random.randint(0, max_freq + 1)
        t0, f0 = np.random.randint(0, frames - t + 1), np.random.randint(0, bins - f + 1)
        fill = x[i].mean()
        x[i, t0 : t0 + t] = fill
        x[i, :, f0 : f0 + f] = fill
    return x


class FrameReadout(nn.Module):
    """Per stage column the classes seen and playing (from the patch tokens of that column), and
    from the frame embedding the classes seen, the venue and how many perform."""

    def __init__(self, d):
        super().__init__()
        self.columns, self.frame = nn.Linear(d, 2 * CLASSES), nn.Linear(d, CLASSES + 2)

    def forward(self, out):
        embedding, columns = out  # columns: (N, COLUMNS, d)
        columns = self.columns(columns)
        frame = self.frame(embedding)
        return {"columns": columns, "seen": frame[:, :CLASSES], "venue": frame[:, CLASSES : CLASSES + 1], "count": frame[:, -1:]}


def frame_loss(out, target):
    bce = F.binary_cross_entropy_with_logits
    seen, playing = out["columns"].split(CLASSES, dim=-1)
    target_seen, target_playing = target["columns"].split(CLASSES, dim=-1)
    return (
        bce(seen, target_seen) * 4 + 0.5 * bce(playing, target_playing) * 4 + bce(out["seen"], target["seen"])
        + bce(out["venue"], target["venue"]) + 0.3 * F.mse_loss(out["count"], target["count"] / 5)
    )  # fmt: skip


def flip_frames(x, target):
    """Mirror half the frames left to right, and their stage columns with them."""
    flip = torch.rand(x.shape[0]) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    columns = torch.where(flip.view(-1, 1, 1), target["columns"].flip(1), target["columns"])
    return x, {**target, "columns": columns}


def presence_f1(scores, truth):
    """Macro F1 over classes (and each class's) of presence at logit 0."""
    predicted, truth = scores > 0, truth > 0
    tp = (predicted & truth).sum(0).float()
    f1 = 2 * tp / (predicted.sum(0) + truth.sum(0)).clamp(min=1).float()
    return f1.mean().item(), f1


def audio_metrics(out, target):
    macro, per_class = presence_f1(out["heard"], target["heard"])
    heard = target["heard"] > 0
    loudness_error = ((out["loudness"] * 10 - 30) - target["loudness"]).abs()[heard].mean().item()
    return {
        "presence_macro_f1": macro,
        "presence_f1": {c: round(v, 4) for c, v in zip(INSTRUMENTS, per_class.tolist())},
        "loudness_mae_db": loudness_error,
        "voiceover_accuracy": ((out["voice"] > 0) == (target["voice"] > 0)).float().mean().item(),
    }


def frame_metrics(out, target):
    """Class-and-stage-third: a class is seen in a third when any of its columns says so."""
    seen = out["columns"][..., :CLASSES]
    truth = target["columns"][..., :CLASSES]
    thirds = [[c for c in range(COLUMNS) if region_of((c + 0.5) / COLUMNS) == r] for r in range(3)]
    pool = lambda x: torch.cat([x[:, cols].amax(1) for cols in thirds], dim=1)
    region_scores, region_truth = pool(seen), pool(truth)
    macro, _ = presence_f1(region_scores, region_truth)
    exact = ((region_scores > 0) == (region_truth > 0)).all(1).float().mean().item()
    seen_macro, per_class = presence_f1(out["seen"], target["seen"])
    return {
        "class_third_macro_f1": macro,
        "class_third_all_correct": exact,
        "seen_macro_f1": seen_macro,
        "seen_f1": {c: round(v, 4) for c, v in zip(INSTRUMENTS, per_class.tolist())},
        "playing_f1": presence_f1(out["columns"][..., CLASSES:].flatten(0, 1), target["columns"][..., CLASSES:].flatten(0, 1))[0],
        "venue_accuracy": ((out["venue"] > 0) == (target["venue"] > 0)).float().mean().item(),
    }


def pretrain(name, encoder, readout, data, loss_fn, metrics_fn, augment, args, train_data=None, room_data=None):
    """Trains encoder + readout on `train_data(indices)` (default `data`) → (inputs, targets),
    `augment`ed; logs validation metrics on `data` per epoch with a progress line and ETA; returns
    the last epoch's metrics (and, with `room_data`, the same validation through the rooms)."""
    train_data = train_data or data
    model = nn.ModuleDict({"encoder": encoder, "readout": readout})
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    batches = (len(args.train_idx) + args.batch - 1) // args.batch
    total = args.epochs * batches if not args.max_steps else min(args.max_steps, args.epochs * batches)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=args.lr, total_steps=max(total, 2))
    steps, started, metrics = 0, time.time(), {}
    for epoch in range(args.epochs):
        model.train()
        order = args.train_idx[torch.randperm(len(args.train_idx))]
        for start in range(0, len(order), args.batch):
            x, target = train_data(order[start : start + args.batch])
            x, target = augment(x, target)
            loss = loss_fn(readout(encoder(x)), target)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            steps += 1
            if steps < total:
                schedule.step()
            if steps % 20 == 0 or steps == total:
                elapsed = time.time() - started
                progress(f"{name} epoch {epoch + 1}/{args.epochs}", steps, total, elapsed, f"loss {loss.item():.3f}")
            if steps >= total:
                break
        metrics = validate(encoder, readout, data, args.val_idx, metrics_fn)
        headline = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}
        log(f"{name} epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, validation {headline}")
        if steps >= total:
            break
    metrics["train_seconds"] = round(time.time() - started, 1)
    if room_data:
        rooms = validate(encoder, readout, room_data, args.val_idx, metrics_fn)
        metrics["room_validation"] = {k: round(v, 4) for k, v in rooms.items() if isinstance(v, float)}
        log(f"{name} through the rooms: validation {metrics['room_validation']}")
    # Kept so an encoder re-exports (or goes on training) without starting over.
    torch.save({"name": name, "state": model.state_dict()}, os.path.join(args.checkpoints, f"tiny-{name}.pt"))
    return metrics


def validate(encoder, readout, data, indices, metrics_fn):
    encoder.eval()
    readout.eval()
    outs, targets = [], []
    with torch.no_grad():
        for start in range(0, len(indices), 256):
            x, target = data(indices[start : start + 256])
            outs.append(readout(encoder(x)))
            targets.append(target)
    cat = lambda parts: {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return metrics_fn(cat(outs), cat(targets))


def progress(label, done, total, elapsed, detail=""):
    """One rewritten line on a terminal (plain lines every 200 steps elsewhere): a bar, the count,
    the rate and the time left."""
    eta = elapsed / max(done, 1) * (total - done)
    bar = "#" * int(24 * done / max(total, 1))
    end = "\n" if done >= total or not sys.stderr.isatty() else "\r"
    if sys.stderr.isatty() or done >= total or done % 200 == 0:
        sys.stderr.write(f"{label} [{bar:<24}] {done}/{total} {detail} {done / max(elapsed, 1e-3):.1f}/s ETA {eta / 60:.1f} min{end}")


def train_encoders(args):
    with open(os.path.join(args.frontend, "videos.json")) as f:
        index = json.load(f)
    videos, segments = index["videos"], index["segments"]
    fbank = torch.from_numpy(np.load(os.path.join(args.frontend, "fbank.npy"))).flatten(0, 1)
    logmel = torch.from_numpy(np.load(os.path.join(args.frontend, "logmel.npy"))).flatten(0, 1)
    pixels = np.load(os.path.join(args.frontend, "pixels.npy"), mmap_mode="r").reshape(-1, *index_shape(args.frontend))
    rooms = [room_spectra(room, videos) for room in args.room_frontend]
    truths = read_truths(args.dataset, videos)
    flat = lambda targets: {k: torch.from_numpy(v).flatten(0, 1) for k, v in targets.items()}
    heard, seen = flat(audio_targets(truths, segments)), flat(frame_targets(truths, segments))
    video_of = torch.arange(len(videos)).repeat_interleave(segments)
    val_mask = torch.tensor([is_validation(v) for v in video_of.tolist()])
    # Test scenes are never seen, not even to choose an epoch.
    test_mask = torch.tensor([is_test(v) for v in video_of.tolist()])
    args.train_idx = torch.nonzero(~val_mask & ~test_mask).flatten()
    args.val_idx = torch.nonzero(val_mask).flatten()
    log(f"pretraining encoders on {len(args.train_idx)} segments, validating on {len(args.val_idx)}")

    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    pick = lambda targets, i: {k: v[i] for k, v in targets.items()}
    power_per_db = LN10 / 10
    ast_mix = lambda x, t: mix_audio(x, t, ast_to_power_log, power_log_to_ast, power_per_db)
    mel_mix = lambda x, t: mix_audio(x, t, mel_to_power_log, power_log_to_mel, power_per_db)

    def augmented(mix):
        def augment(x, target):
            x, target = mix(x, target)
            return spec_augment(x), target

        return augment

    ast, audio, frame = TinyAST(args.ast_dim), TinyAudioClip(args.audio_dim), TinyFrame(args.frame_dim)
    report = {"segments": len(video_of), "train_segments": len(args.train_idx), "epochs": args.epochs}
    report["dims"] = {"ast": args.ast_dim, "audio": args.audio_dim, "frame": args.frame_dim}
    if rooms:
        report["room_frontends"] = args.room_frontend

    def audio_data(clean, key, targets=heard):  # (validation data, training data, validation through the rooms)
        sources = [clean] + [room[key] for room in rooms]
        if not rooms:
            return lambda i: (clean[i], pick(targets, i)), None, None
        mixed = lambda i: (drawn_rows(sources, i), pick(targets, i))
        return lambda i: (clean[i], pick(targets, i)), mixed, lambda i: (rooms[0][key][i], pick(targets, i))

    if "ast" in args.only:
        data, train_data, room_data = audio_data(fbank, "fbank")
        report["ast"] = pretrain(
            "ast", ast, AudioReadout(8 * args.ast_dim), data, audio_loss, audio_metrics, augmented(ast_mix), args, train_data, room_data
        )
        export_encoder(ast, torch.zeros(1, 100, 128), ["fbank"], ["tokens"], os.path.join(args.out, "tiny-ast.onnx"))
    if "audio" in args.only:
        data, train_data, room_data = audio_data(logmel, "logmel")
        report["audio"] = pretrain(
            "audio", audio, AudioReadout(args.audio_dim), data, audio_loss, audio_metrics, augmented(mel_mix), args, train_data, room_data
        )
        export_encoder(audio, torch.zeros(1, 96, 64), ["logmel"], ["embedding"], os.path.join(args.out, "tiny-audio.onnx"))
    if "onsets" in args.only:  # after the clip encoder: its facts join that graph
        timed = {**heard, "onset_frames": torch.from_numpy(onset_frames(truths, segments)).flatten(0, 1)}
        data, train_data, room_data = audio_data(logmel, "logmel", timed)
        onsets = TinyOnsets(CLASSES)
        augment = lambda x, target: (spec_augment(x, max_time=4), target)  # no mixes: onsets stay one example's
        report["onsets"] = pretrain("onsets", onsets, OnsetReadout(), data, onsets_loss, onsets_metrics, augment, args, train_data, room_data)
        join_onsets(os.path.join(args.out, "tiny-audio.onnx"), onsets)
    if "frame" in args.only:
        frames = lambda i: (normalise_pixels(pixels[i.numpy()]), pick(seen, i))
        report["frame"] = pretrain("frame", frame, FrameReadout(args.frame_dim), frames, frame_loss, frame_metrics, flip_frames, args)
        export_encoder(frame, torch.zeros(1, 3, 64, 128), ["image"], ["embedding", "patches"], os.path.join(args.out, "tiny-frame.onnx"))
    path = os.path.join(args.out, "encoders-report.json")
    # Pretraining some encoders only keeps the others' figures.
    previous = json.load(open(path)) if os.path.exists(path) and set(args.only) != set(ENCODERS) else {}
    with open(path, "w") as f:
        json.dump({**previous, **report}, f, indent=1)
    log(f"encoders exported to {args.out}")


def room_spectra(frontend, videos):
    """A degraded front-end's fbank and log-mel (npm run extract --degrade), checked to be of the
    same videos, in the same order, as the clean one."""
    with open(os.path.join(frontend, "videos.json")) as f:
        if json.load(f)["videos"] != videos:
            raise SystemExit(f"{frontend}: not the clean front-end's videos (extract it from the same --dataset)")
    load = lambda name: torch.from_numpy(np.load(os.path.join(frontend, f"{name}.npy"))).flatten(0, 1)
    return {"fbank": load("fbank"), "logmel": load("logmel")}


def drawn_rows(sources, indices):
    """Each example from one of `sources` (same rows, other rooms) drawn at random."""
    which = torch.randint(len(sources), (len(indices),))
    return torch.stack([sources[w][i] for w, i in zip(which.tolist(), indices.tolist())])


def index_shape(frontend):
    with open(os.path.join(frontend, "videos.json")) as f:
        spec = json.load(f)["spec"]
    return (spec["frameHeight"], spec["frameWidth"], 3)


def export_encoder(module, example, inputs, outputs, path):
    axes = {name: {0: "batch"} for name in inputs + outputs}
    torch.onnx.export(module, (example,), path, input_names=inputs, output_names=outputs, dynamic_axes=axes, opset_version=OPSET)


# ---------------------------------------------------------------------------- stage 2: head


class Questions(torch.utils.data.Dataset):
    """One split's questions as word ids; split "all" joins train, val and test (a held-out set)."""

    def __init__(self, features, split):
        self.items = []
        for part in ("train", "val", "test") if split == "all" else (split,):
            with open(os.path.join(features, f"questions-{part}.json")) as f:
                self.items += json.load(f)
        self.words = max(len(q["ids"]) for q in self.items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        q = self.items[i]
        ids = torch.zeros(self.words, dtype=torch.long)
        ids[: len(q["ids"])] = torch.tensor(q["ids"])
        return q["video"], ids, len(q["ids"]), q["answer"]


# ---------------------------------------------------------------------------- stage 2a: readouts


def fit_linear(x, targets, loss_fn, outputs, train_idx, steps):
    """A linear map from x (V, T, …, D) fitted by Adam on the training videos, with the inputs'
    standardisation folded into it: returns (weight, bias) that read the raw features."""
    axes = tuple(range(x.dim() - 1))
    mean, std = x[train_idx].mean(dim=axes), x[train_idx].std(dim=axes) + 1e-5
    linear = nn.Linear(x.shape[-1], outputs)
    optimiser = torch.optim.Adam(linear.parameters(), lr=1e-2)
    inputs, started = (x[train_idx] - mean) / std, time.time()
    for step in range(steps):
        optimiser.zero_grad()
        loss = loss_fn(linear(inputs), targets(train_idx))
        loss.backward()
        optimiser.step()
        if (step + 1) % 100 == 0:
            progress("readout", step + 1, steps, time.time() - started, f"loss {loss.item():.3f}")
    return unstandardised(linear.weight, linear.bias, mean, std)


def unstandardised(weight, bias, mean, std):
    """A linear layer fitted on standardised inputs (the first len(mean) of them; any after those
    as they are), as (weight, bias) that read the raw inputs."""
    n = mean.shape[0]
    weight = weight.detach().clone()
    weight[:, :n] = weight[:, :n] / std
    return weight, bias.detach() - weight[:, :n] @ mean


def load_from(directory, name):
    return torch.from_numpy(np.load(os.path.join(directory, f"{name}.npy")))


def audio_features(directory):
    """An extraction's audio stream as the audio readouts read it: the clip embedding and the AST
    tokens, per segment (V, T, audio_dim + bands · ast_dim)."""
    return torch.cat([load_from(directory, "audio"), load_from(directory, "ast").flatten(2)], -1)


def fit_readouts(args):
    with open(os.path.join(args.features, "features.json")) as f:
        info = json.load(f)
    load = lambda name: load_from(args.features, name)
    frames, patches = load("frames"), load("patches")
    truths = read_truths(args.dataset, info["videos"])
    tensors = lambda d: {k: torch.from_numpy(v) for k, v in d.items()}
    heard_truth, seen_truth = tensors(audio_targets(truths, info["segments"])), tensors(frame_targets(truths, info["segments"]))
    videos = torch.arange(frames.shape[0])
    train_idx = videos[[not is_validation(v) and not is_test(v) for v in range(len(videos))]]
    val_idx = videos[[is_validation(v) for v in range(len(videos))]]
    k, started = CLASSES, time.time()
    torch.manual_seed(args.seed)

    def audio_readout_loss(out, target):  # the encoders' audio loss, on this layout
        split = {"heard": out[..., :k], "loudness": out[..., k : 2 * k], "onsets": out[..., 2 * k : 3 * k], "pitch": out[..., 3 * k : 4 * k], "voice": out[..., -1:]}
        return audio_loss(split, target)

    def columns_loss(out, target):
        return 4 * F.binary_cross_entropy_with_logits(out[..., :k], target[..., :k]) + 2 * F.binary_cross_entropy_with_logits(out[..., k:], target[..., k:])

    def frame_loss_(out, target):
        seen, venue, count = target
        bce = F.binary_cross_entropy_with_logits
        return bce(out[..., :k], seen) + bce(out[..., k : k + 1], venue) + 0.3 * F.mse_loss(out[..., -1:], count / 5)

    both = audio_features(args.features)
    # Through a room too (--room-features): the same scenes' degraded audio features, same truth.
    rooms = [audio_features(room) for room in args.room_features]
    audio_x, audio_idx = torch.cat([both, *rooms]), torch.cat([train_idx + r * len(videos) for r in range(1 + len(rooms))])
    readouts = {"audio": fit_linear(audio_x, lambda i: {n: t[i % len(videos)] for n, t in heard_truth.items()}, audio_readout_loss, 4 * k + 1, audio_idx, args.steps)}
    if args.sight_from:  # a trained head's maps of what is seen, kept as they are
        state = torch.load(args.sight_from, map_location="cpu", weights_only=False)["best_state"]
        for name in ("columns", "frame"):
            readouts[name] = (state[f"head.concepts.{name}_weight"], state[f"head.concepts.{name}_bias"])
    else:
        readouts["columns"] = fit_linear(patches, lambda i: seen_truth["columns"][i], columns_loss, 2 * k, train_idx, args.steps)
        readouts["frame"] = fit_linear(frames, lambda i: (seen_truth["seen"][i], seen_truth["venue"][i], seen_truth["count"][i]), frame_loss_, k + 2, train_idx, args.steps)
    apply = lambda name, x: x @ readouts[name][0].t() + readouts[name][1]
    heard_logits = lambda sound, videos: apply("audio", sound[videos])[..., :k]
    silent = None
    if args.heard_hidden:
        if args.silent_features:
            check_silent_features(args.silent_features, info["videos"])
            silent = audio_features(args.silent_features)
        sight = torch.sigmoid(apply("frame", frames)[..., :k]), torch.sigmoid(apply("columns", patches))
        readouts["heard"] = fit_sighted_hearing([both, *rooms], silent, sight, heard_truth["heard"], train_idx, args)
        heard_logits = lambda sound, videos: sighted_hearing(sound[videos], sight[0][videos], sight[1][videos], *readouts["heard"])
    read = lambda name, x: apply(name, x[val_idx])
    heard_f1 = lambda sound: presence_f1(heard_logits(sound, val_idx).flatten(0, 1), heard_truth["heard"][val_idx].flatten(0, 1))[0]
    report = {
        "heard_macro_f1": heard_f1(both),
        "column_seen_macro_f1": presence_f1(read("columns", patches)[..., :k].flatten(0, 2), seen_truth["columns"][val_idx][..., :k].flatten(0, 2))[0],
        "column_playing_macro_f1": presence_f1(read("columns", patches)[..., k:].flatten(0, 2), seen_truth["columns"][val_idx][..., k:].flatten(0, 2))[0],
        "seen_macro_f1": presence_f1(read("frame", frames)[..., :k].flatten(0, 1), seen_truth["seen"][val_idx].flatten(0, 1))[0],
        "fit_seconds": round(time.time() - started, 1),
    }
    for r, room in enumerate(rooms):
        report[f"heard_macro_f1_room{r + 1}"] = heard_f1(room)
    if silent is not None:
        report["heard_share_silent"] = (heard_logits(silent, val_idx) > 0).float().mean().item()
    torch.save(readouts, args.out)
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump({k_: round(v, 4) for k_, v in report.items()}, f, indent=1)
    log(f"readouts → {args.out}: validation {report}")


def check_silent_features(directory, videos):
    """Silent-audio features must be of the same videos, in the same order, as the clean ones."""
    with open(os.path.join(directory, "features.json")) as f:
        if json.load(f)["videos"] != videos:
            raise SystemExit(f"{directory}: not the features' videos (extract the same dataset with --counterfactual silent-audio)")


def fit_sighted_hearing(sounds, silent, sight, heard, train_idx, args):
    """model.py's sighted_hearing fitted on the training videos: the audio features of every
    extraction in `sounds` (clean, then rooms) and, with `silent`, of silent audio (nothing heard
    there whatever sight says), beside sight's per-class readouts. Returns (w1, b1, w2, b2) with
    the audio features' standardisation folded into w1."""
    k, hidden = heard.shape[-1], args.heard_hidden
    sight = sight_of_classes(*sight)
    mean, std = sounds[0][train_idx].mean((0, 1)), sounds[0][train_idx].std((0, 1)) + 1e-5
    extractions = [(s, heard) for s in sounds] + ([(silent, torch.zeros_like(heard))] if silent is not None else [])
    x = torch.cat([torch.cat([(s[train_idx] - mean) / std, sight[train_idx]], -1).flatten(0, 1) for s, _ in extractions])
    y = torch.cat([target[train_idx].flatten(0, 1) for _, target in extractions])
    net = nn.Sequential(nn.Linear(x.shape[-1], hidden), nn.GELU(), nn.Dropout(0.2), nn.Linear(hidden, k))
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    started, epochs = time.time(), args.heard_epochs
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 256):
            batch = order[i : i + 256]
            optimiser.zero_grad()
            loss = F.binary_cross_entropy_with_logits(net(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
        progress("sighted hearing", epoch + 1, epochs, time.time() - started, f"loss {loss.item():.3f}")
    return (*unstandardised(net[0].weight, net[0].bias, mean, std), net[3].weight.detach().clone(), net[3].bias.detach().clone())


class Features:
    """Per-video encoder outputs, whole in memory (the tiny profile's are small); with `oracle`
    (the synthetic dataset's folder) the ground truth's per-second facts stand in for them."""

    def __init__(self, directory, oracle=None):
        if oracle:
            with open(os.path.join(directory, "features.json")) as f:
                info = json.load(f)
            arrays = oracle_features(read_truths(oracle, info["videos"]), info["segments"])
            load = lambda name: torch.from_numpy(arrays[name])
        else:
            load = lambda name: torch.from_numpy(np.load(os.path.join(directory, f"{name}.npy")))
        self.frames, self.patches = load("frames"), load("patches")
        self.audio, self.ast = load("audio"), load("ast")

    def to(self, device):
        self.frames, self.patches, self.audio, self.ast = (x.float().to(device) for x in (self.frames, self.patches, self.audio, self.ast))
        return self

    def batch(self, videos, rooms=(), silent=None, room_share=None):
        """The videos' features; with `rooms` (Features of the same scenes through rooms), each
        video's audio features drawn from this extraction or one of those at random (a room with
        probability `room_share`, default as likely as the clean one); with `silent`
        (the scenes' features with silent audio, and a mask of the examples to silence), those
        examples' audio features from it."""
        segments = self.frames.shape[1]
        mask = torch.ones(len(videos), segments, dtype=torch.bool, device=self.frames.device)
        audio, ast = self.audio[videos], self.ast[videos]
        if rooms:
            which = torch.randint(len(rooms) + 1, (len(videos),))
            if room_share is not None:  # clean (0) unless drawn into a room, then any room alike
                which = torch.where(torch.rand(len(videos)) < room_share, torch.randint(1, len(rooms) + 1, (len(videos),)), 0)
            for r, room in enumerate(rooms, start=1):
                pick = (which == r).to(audio.device)
                audio = torch.where(pick.view(-1, 1, 1), room.audio[videos], audio)
                ast = torch.where(pick.view(-1, 1, 1, 1), room.ast[videos], ast)
        if silent is not None:
            quiet, pick = silent
            audio = torch.where(pick.view(-1, 1, 1), quiet.audio[videos], audio)
            ast = torch.where(pick.view(-1, 1, 1, 1), quiet.ast[videos], ast)
        return self.frames[videos], self.patches[videos], audio, ast, mask


class TextQuestions(Questions):
    """Questions as a frozen text tower's features (words-<split>.npy and sentence-<split>.npy,
    written by npm run extract for a profile with CLIP's text encoder) instead of word ids."""

    def __init__(self, features, split):
        super().__init__(features, split)
        parts = ("train", "val", "test") if split == "all" else (split,)
        words = [torch.from_numpy(np.load(os.path.join(features, f"words-{p}.npy"))) for p in parts]
        self.words = max(w.shape[1] for w in words)
        self.word_features = torch.cat([F.pad(w, (0, 0, 0, self.words - w.shape[1])) for w in words])
        self.sentences = torch.cat([torch.from_numpy(np.load(os.path.join(features, f"sentence-{p}.npy"))) for p in parts])

    def __getitem__(self, i):
        q = self.items[i]
        return q["video"], (self.word_features[i], self.sentences[i]), len(q["ids"]), q["answer"]


def text_tower(features):
    """Whether these features' questions went through a frozen text tower (the paper profile)."""
    with open(os.path.join(features, "features.json")) as f:
        return json.load(f).get("questionFeatures") == "text-tower"


def questions_of(features, split):
    """A split's questions as the features' question encoder gives them."""
    return (TextQuestions if text_tower(features) else Questions)(features, split)


class QStarOnText(nn.Module):
    """QSTar's head on a frozen text tower's word tokens and sentence embedding: the paper's
    setting, CLIP's text encoder frozen, so its features are extracted once."""

    def __init__(self, config):
        super().__init__()
        self.head = QStar(config)

    def forward(self, features, question, word_mask):
        frames, patches, audio, ast, segment_mask = features
        words, sentence = question
        return self.head(frames, patches, audio, ast, words, word_mask, sentence, segment_mask)


class QStarWithQuestions(nn.Module):
    def __init__(self, config, vocabulary, question_layers=1, summary_token=False):
        super().__init__()
        codes = word_codes(vocabulary, INSTRUMENTS, config.rank_words, config.stage_rules) if config.class_slots else None
        self.questions = QuestionEncoder(len(vocabulary), config.word_dim, layers=question_layers, summary_token=summary_token, codes=codes)
        self.head = QStar(config)

    def forward(self, features, ids, word_mask):
        frames, patches, audio, ast, segment_mask = features
        words, sentence = self.questions(ids, word_mask)
        return self.head(frames, patches, audio, ast, words, word_mask, sentence, segment_mask)


def to_device(question, device):
    """A batch's question (word ids, or a text tower's (words, sentence)) on `device`."""
    return [x.to(device) for x in question] if isinstance(question, (list, tuple)) else question.to(device)


def word_mask_of(question, lengths):
    words = question[0] if isinstance(question, (list, tuple)) else question
    return torch.arange(words.shape[1], device=words.device)[None, :] < lengths[:, None]


def correct_answers(model, questions, features):
    """Per question of `questions` (in order): whether the model's answer is the annotated one."""
    model.eval()
    right = []
    device = features.frames.device
    with torch.no_grad():
        for videos, question, lengths, answers in torch.utils.data.DataLoader(questions, batch_size=256):
            question, lengths, answers = to_device(question, device), lengths.to(device), answers.to(device)
            right.append(model(features.batch(videos), question, word_mask_of(question, lengths))[0].argmax(-1) == answers)
    return torch.cat(right)


def evaluate(model, questions, features):
    return correct_answers(model, questions, features).float().mean().item()


def accuracy_by_type(model, questions, features, keep_answers=False):
    """Accuracy per MUSIC-AVQA question type and overall (correct / total), with its standard error;
    keep_answers adds each question's outcome in order ("1" right, "0" wrong) for paired tests."""
    correct = correct_answers(model, questions, features).tolist()
    report = {}
    for q, ok in zip(questions.items, correct):
        kind = q.get("type", "all")
        report.setdefault(kind, []).append(ok)
    result = {kind: round(100 * sum(v) / len(v), 2) for kind, v in sorted(report.items())}
    n, p = len(correct), sum(correct) / max(1, len(correct))
    counts = {kind: [sum(v), len(v)] for kind, v in sorted(report.items())}  # for pooling across sets
    result.update({"overall": round(100 * p, 2), "standard_error": round(100 * math.sqrt(p * (1 - p) / max(1, n)), 2), "questions": n, "counts": counts})
    return {**result, "correct": "".join("1" if ok else "0" for ok in correct)} if keep_answers else result


# What silence makes true: nothing is heard, so presence questions answer no or zero; questions
# about sight keep their answer; the others (comparisons, order, where a sound is) have no answer
# in silence and are never silenced (--silence).
SILENT_ANSWERS = {
    "Is there a <Object> sound?": "no",
    "Are there <Object> and <Object> sound?": "no",
    "How many musical instruments were heard throughout the video?": "zero",
    "How many instruments are sounding in the video?": "zero",
    "How many sounding <Object> in the video?": "zero",
    "How many types of musical instruments sound in the video?": "zero",
    "Is the <Object> in the video always playing?": "no",
}
NEVER_SILENCED = -1


class SilencedQuestions(Questions):
    """Training questions that also carry their answer under silent audio (NEVER_SILENCED when
    silence leaves it undefined), read from the dataset's templates."""

    def __init__(self, features, split, dataset):
        super().__init__(features, split)
        with open(os.path.join(dataset, f"avqa-{split}.json")) as f:
            template = {q["question_id"]: (q["type"], q["question_content"]) for q in json.load(f)}
        words = sorted(set(SILENT_ANSWERS.values()))
        index = dict(zip(words, answer_indices(words)))
        for q in self.items:
            kind, content = template[q["question_id"]]
            silent = SILENT_ANSWERS.get(content)
            q["silent"] = index[silent] if silent else q["answer"] if kind.startswith('["Visual"') else NEVER_SILENCED

    def __getitem__(self, i):
        return *super().__getitem__(i), self.items[i]["silent"]


def answer_indices(names):
    """The 42-answer indices of these answers, in the order given."""
    with open(ANSWER_ORDER) as f:
        answers = json.load(f)["answers"]
    return tuple(answers.index(name) for name in names)


ADDED_RULES = ("head.rules.heard_gain.", "head.rules.view_gain.")  # rules a trained head may lack (--heard-count, --sound-in-view): --init-from leaves them as initialised


def start_from(model, path, concept_maps):
    """A trained head's best weights as the starting point; Concepts' maps stay the ones given
    (--concepts), which the training reads. A rule added since (ADDED_RULES) starts with its
    gain as initialised: train it alone with --train-only."""
    saved = torch.load(path, map_location="cpu", weights_only=False)
    try:
        missing, unexpected = model.load_state_dict(saved["best_state"], strict=False)
    except RuntimeError as error:
        raise SystemExit(f"{path}: not a head of this configuration ({str(error).splitlines()[0]})")
    added = [name for name in missing if name.startswith(ADDED_RULES)]  # rules added since: their gains start as initialised
    if unexpected or len(added) < len(missing):
        raise SystemExit(f"{path}: not a head of this configuration (missing {sorted(set(missing) - set(added))}, unexpected {sorted(unexpected)})")
    if model.head.concepts is not None:
        model.head.concepts.load(concept_maps)
    log(f"{path}: starting from its best epoch (val accuracy {saved['best']:.4f})")


def train_head(args):
    with open(os.path.join(args.features, "features.json")) as f:
        info = json.load(f)
    device = torch.device(args.device)
    features = Features(args.features, oracle=args.oracle).to(device)
    # Through a room too (--room-features): each training example's audio features drawn from the
    # clean extraction or one through a room (the pictures are the same).
    rooms = [Features(room).to(device) for room in args.room_features]
    late = VARIANTS[args.variant].get("late_fusion", False)  # the question enters only at the end
    # Silence (--silence SHARE): that share of the questions silence leaves answerable hear the
    # scene's silent-audio features and must give silence's answer, so a head cannot answer
    # "is X playing" from the picture alone.
    quiet = None
    if args.silence:
        check_silent_features(args.silent_features, info["videos"])
        quiet = Features(args.silent_features).to(device)
    text = text_tower(args.features)  # the paper profile: questions through frozen CLIP text
    if text and (args.class_slots or args.concepts or args.silence or args.oracle):
        raise SystemExit(f"{args.features}: questions from a text tower; --class-slots, --concepts, --silence and --oracle need the tiny question encoder")
    train = SilencedQuestions(args.features, "train", args.dataset) if args.silence else questions_of(args.features, "train")
    val = questions_of(args.features, "val")
    concept_maps = torch.load(args.concepts) if args.concepts and not late else None
    rules = args.stage_rules and bool(args.concepts) and args.class_slots and not late
    config = QStarConfig(
        d_model=args.d_model, heads=args.heads, dropout=0.1, frame_dim=features.frames.shape[-1], patch_dim=features.patches.shape[-1],
        audio_dim=features.audio.shape[-1], ast_dim=features.ast.shape[-1], word_dim=train.word_features.shape[-1] if text else args.d_model,
        class_slots=args.class_slots and not late, class_answers=args.class_answers and not late, performers=args.performers and not late,
        concepts=bool(args.concepts) and not late, class_facts=args.class_facts and bool(args.concepts) and args.class_slots and not late,
        performer_facts=args.performer_facts and bool(args.concepts) and args.performers and not late,
        rank_words=args.rank_words and args.performer_facts and bool(args.concepts) and args.performers and not late, concept_classes=CLASSES, ast_bands=features.ast.shape[2],
        stage_rules=rules,
        heard_count=args.heard_count and rules, sound_in_view=args.sound_in_view and rules, onset_rates=args.onset_rates and rules,
        lookalike_pairs=LOOKALIKE_PAIRS if args.lookalikes_by_sound and rules else (),
        instrument_answers=answer_indices(INSTRUMENTS), position_answers=answer_indices(("left", "middle", "right")), yes_no_answers=answer_indices(("yes", "no")), count_answers=answer_indices(COUNT_WORDS),
        window_summary=args.window_summary and not late, heard_hidden=concept_maps["heard"][0].shape[0] if concept_maps and "heard" in concept_maps else 0, **VARIANTS[args.variant],
    )  # fmt: skip
    torch.manual_seed(args.seed)
    model = QStarOnText(config) if text else QStarWithQuestions(config, info["vocabulary"], args.question_layers, args.summary_token)
    if model.head.concepts is not None:
        model.head.concepts.load(concept_maps)
        if config.heard_hidden:
            log(f"{args.concepts}: which classes sound read by sighted hearing ({config.heard_hidden} hidden units)")
    if args.init_from:
        start_from(model, args.init_from, concept_maps)
    if args.train_only:
        for name, parameter in model.named_parameters():
            parameter.requires_grad_(name.startswith(tuple(args.train_only)))
        if not any(p.requires_grad for p in model.parameters()):
            raise SystemExit(f"--train-only {' '.join(args.train_only)}: no parameter has such a name")
    model.to(device)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.StepLR(optimiser, step_size=args.step_epochs, gamma=0.1)
    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, shuffle=True)
    name = ("oracle-" if args.oracle else "") + args.variant + ("-summary" if config.window_summary and args.oracle else "") + ("-token" if args.summary_token and args.oracle else "") + ("-slots" if config.class_slots and args.oracle else "") + ("-answers" if config.class_answers and args.oracle else "") + ("-performers" if config.performers and args.oracle else "") + ("-concepts" if config.concepts else "") + ("-facts" if config.performer_facts else "-classfacts" if config.class_facts else "") + ("-ranks" if config.rank_words else "") + ("-rules" if config.stage_rules else "") + ("-heard" if config.heard_count else "") + ("-inview" if config.sound_in_view else "") + ("-rates" if config.onset_rates else "") + ("-lookalikes" if config.lookalike_pairs else "") + ("-rooms" if args.room_features else "") + (f"{args.room_share:g}" if args.room_features and args.room_share is not None else "") + ("-silence" if args.silence else "") + (f"-seed{args.seed}" if args.seed else "")
    stem = f"qstar-{'paper' if text else 'tiny'}"
    checkpoint = os.path.join(args.checkpoints, f"{stem}-{name}.pt")
    best, best_state, history, first_epoch = -1.0, None, [], 0
    if args.resume and os.path.exists(checkpoint):
        saved = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(saved["state"])
        optimiser.load_state_dict(saved["optimiser"])
        schedule.load_state_dict(saved["schedule"])
        best, best_state, history, first_epoch = saved["best"], saved["best_state"], saved["history"], saved["epoch"]
        torch.set_rng_state(saved["rng"].cpu())
        log(f"{name}: resumed from {checkpoint} after epoch {first_epoch}")
    log(f"{name}: {sum(p.numel() for p in model.parameters())} parameters, {len(train)} train / {len(val)} val questions")
    if quiet is not None:
        answerable = [q for q in train.items if q["silent"] != NEVER_SILENCED]
        changed = sum(q["silent"] != q["answer"] for q in answerable)
        log(f"{name}: silence: {args.silence:.0%} of the {len(answerable)} questions silence leaves answerable ({changed} of them change answer)")
    steps, total, started = 0, (args.epochs - first_epoch) * len(loader), time.time()
    for epoch in range(first_epoch, args.epochs):
        model.train()
        epoch_started = time.time()
        for videos, question, lengths, answers, *silent_answers in loader:
            question, lengths, answers = to_device(question, device), lengths.to(device), answers.to(device)
            word_mask = word_mask_of(question, lengths)
            silent = None
            if quiet is not None:
                heard = silent_answers[0].to(device)
                pick = (torch.rand(len(videos), device=device) < args.silence) & (heard != NEVER_SILENCED)
                answers, silent = torch.where(pick, heard, answers), (quiet, pick)
            loss = F.cross_entropy(model(features.batch(videos, rooms, silent, args.room_share), question, word_mask)[0], answers)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            steps += 1
            if steps % 20 == 0:
                progress(f"{name} epoch {epoch + 1}/{args.epochs}", steps, total, time.time() - started, f"loss {loss.item():.3f}")
            if args.max_steps and steps >= args.max_steps:
                break
        schedule.step()
        accuracy = evaluate(model, val, features)
        history.append({"epoch": epoch + 1, "loss": loss.item(), "val_accuracy": accuracy, "seconds": round(time.time() - epoch_started, 1)})
        log(f"{name} epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, val accuracy {accuracy:.4f} ({time.time() - epoch_started:.1f} s)")
        if accuracy > best:
            best, best_state = accuracy, {k: v.clone() for k, v in model.state_dict().items()}
        # Every epoch, so an interrupted run resumes (--resume) and a head re-exports without training.
        saved = {"config": config.to_dict(), "vocabulary": info.get("vocabulary"), "state": model.state_dict(), "optimiser": optimiser.state_dict()}
        saved["questions"] = {"layers": args.question_layers, "summary_token": args.summary_token}
        saved.update({"schedule": schedule.state_dict(), "best": best, "best_state": best_state, "history": history, "epoch": epoch + 1, "rng": torch.get_rng_state()})
        torch.save(saved, checkpoint)
        if args.max_steps and steps >= args.max_steps:
            break
    model.load_state_dict(best_state)
    model.requires_grad_(True)  # with --train-only: a frozen encoder layer would take the fast path ONNX cannot trace
    model.cpu().eval()
    features.to("cpu")
    report = {"variant": args.variant, "seed": args.seed, "config": config.to_dict(), "best_val_accuracy": best, "history": history}
    report["train_seconds"] = round(sum(h["seconds"] for h in history), 1)
    report.update({"room_features": args.room_features, "room_share": args.room_share, "silence": args.silence})
    if os.path.exists(os.path.join(args.features, "questions-test.json")):
        report["test"] = accuracy_by_type(model, questions_of(args.features, "test"), features)
        log(f"{name}: test accuracy {report['test']}")
    for held_out in args.held_out:  # scenes from seeds never trained or tuned on: every question
        report.setdefault("held_out", {})[held_out] = accuracy_by_type(model, questions_of(held_out, "all"), Features(held_out), keep_answers=True)
        log(f"{name}: held out {held_out}: {report['held_out'][held_out]['overall']} %")
    os.makedirs(args.out, exist_ok=True)
    if args.oracle:
        with open(os.path.join(args.out, f"head-report-{name}.json"), "w") as f:
            json.dump(report, f, indent=1)
        return log(f"{name}: best val accuracy {best:.4f} (oracle inputs: nothing exported)")
    exported = args.export if args.export is not None else not args.seed  # other seeds: measured, not shipped
    if exported:
        export_onnx(model, args.out, args.variant)
        # Beside the ONNX files, what re-exports them (train.py export): checkpoints in a scratch
        # folder do not outlive the machine they were trained on.
        save_slim(saved, os.path.join(args.out, f"{stem}{variant_suffix(args.variant)}.pt"))
    suffix_report = variant_suffix(args.variant) if exported and not args.seed else f"-{name}"
    with open(os.path.join(args.out, f"head-report{suffix_report}.json"), "w") as f:
        json.dump(report, f, indent=1)
    log(f"{name}: best val accuracy {best:.4f}; " + (f"exported to {args.out}" if exported else "measured, not exported"))


def variant_suffix(variant):
    return "" if variant == "full" else f"-{variant}"


def save_slim(saved, path):
    """A head's checkpoint without its optimiser and schedule state (a fifth the size): enough to
    re-export its best epoch, not to resume training."""
    keep = ("config", "vocabulary", "questions", "best", "best_state", "history", "epoch")
    torch.save({k: saved[k] for k in keep if k in saved}, path)


def export_onnx(model, out, variant):
    """The question encoder and the head as a profile's ONNX files for `variant`; on a frozen text
    tower (the paper profile) the head alone, the tower being the profile's own."""
    suffix = variant_suffix(variant)
    os.makedirs(out, exist_ok=True)
    if isinstance(model, QStarOnText):
        return export_head(model.head, os.path.join(out, f"qstar-paper{suffix}.onnx"))
    export_question_encoder(model.questions, os.path.join(out, f"tiny-question{suffix}.onnx"))
    export_head(model.head, os.path.join(out, f"qstar-tiny{suffix}.onnx"))


def fit_stereo_templates(args):
    """Mean normalised band power of the training seconds with one class alone (or the voiceover
    alone): the spectra stereo_power explains each second's two channels by."""
    info = json.load(open(os.path.join(args.features, "features.json")))
    stereo = np.load(os.path.join(args.features, "stereo.npy"), mmap_mode="r")
    with open(os.path.join(args.dataset, "avqa-train.json")) as f:
        train = sorted({q["video_id"] for q in json.load(f)})
    row_of = {video: i for i, video in enumerate(info["videos"])}
    sums, seconds = np.zeros((CLASSES + 1, stereo.shape[-1])), np.zeros(CLASSES + 1, int)
    for video, truth in zip(train, read_truths(args.dataset, train)):
        power = np.asarray(stereo[row_of[video]], np.float64).sum(1)  # (T, bands), both channels
        voice = truth["voiceover"]
        for t in range(power.shape[0]):
            playing = {p["instrument"] for p in truth["performers"] if p["active"][t]}
            speaking = bool(voice) and voice["start"] < t + 1 and voice["end"] > t
            if len(playing) == 1 and not speaking:
                row = INSTRUMENTS.index(playing.pop())
            elif not playing and speaking and voice["start"] <= t and voice["end"] >= t + 1:
                row = CLASSES
            else:
                continue
            sums[row] += power[t] / max(power[t].sum(), 1e-20)
            seconds[row] += 1
    if not seconds.any():
        raise SystemExit(f"{args.features}: no training second has one class (or the voiceover) alone")
    templates = sums / np.maximum(seconds, 1)[:, None]
    missing = seconds == 0
    if missing.any():  # a row never heard alone: the mean of the others (no pan to learn from it)
        templates[missing] = templates[~missing].mean(0)
        log(f"stereo templates: no second alone for {', '.join((INSTRUMENTS + ['voiceover'])[i] for i in np.flatnonzero(missing))}; their rows are the others' mean")
    with open(args.out, "w") as f:
        json.dump({"rows": INSTRUMENTS + ["voiceover"], "seconds": seconds.tolist(), "templates": templates.tolist()}, f)
    log(f"stereo templates from {len(train)} training scenes ({seconds.min()}–{seconds.max()} solo seconds per row) → {args.out}")


def export_checkpoint(args):
    saved = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    questions = saved.get("questions", {"layers": 1, "summary_token": False})
    config = QStarConfig(**saved["config"])

    def needs_rules(flag):  # rules without weights, or fitted not trained: a trained head takes them as they are
        if not config.stage_rules:
            raise SystemExit(f"{args.checkpoint}: --{flag} needs a head with StageRules")

    if args.lookalikes_by_sound:
        needs_rules("lookalikes-by-sound")
        config.lookalike_pairs = LOOKALIKE_PAIRS
    if args.readouts:  # Concepts' maps refitted, perhaps on a wider audio stream
        saved = with_readouts(saved, config, torch.load(args.readouts, map_location="cpu", weights_only=False))
    if args.onset_rates:  # the rules read TinyOnsets' facts already in the audio stream
        needs_rules("onset-rates")
        config.onset_rates = True
    if args.stage_count_by_sight:  # the frame readout's count is in Concepts already
        needs_rules("stage-count-by-sight")
        config.stage_count_by_sight = True
    if args.stereo_templates:  # the templates are fitted, not trained
        needs_rules("stereo-templates")
        with open(args.stereo_templates) as f:
            config.stereo_templates = tuple(tuple(row) for row in json.load(f)["templates"])
    if args.slim:  # with the rules given here in its config, so it re-exports as they are
        save_slim({**saved, "config": config.to_dict()}, args.slim)
        log(f"{args.checkpoint}: slim checkpoint → {args.slim}")
        if not args.out:
            return
    text = saved["vocabulary"] is None  # trained on a text tower's features
    model = QStarOnText(config) if text else QStarWithQuestions(config, saved["vocabulary"], questions["layers"], questions["summary_token"])
    model.load_state_dict(saved["best_state"])
    model.eval()
    export_onnx(model, args.out, args.variant)
    log(f"{args.checkpoint}: best epoch (val accuracy {saved['best']:.4f}) exported to {args.out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("encoders")
    e.add_argument("--frontend", required=True)
    e.add_argument("--dataset", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--checkpoints", default="/tmp")
    e.add_argument("--epochs", type=int, default=12)
    e.add_argument("--batch", type=int, default=64)
    e.add_argument("--lr", type=float, default=3e-3)
    e.add_argument("--ast-dim", type=int, default=64)
    e.add_argument("--audio-dim", type=int, default=128)
    e.add_argument("--frame-dim", type=int, default=64)
    e.add_argument("--only", nargs="+", choices=ENCODERS, default=list(ENCODERS), help="pretrain only these encoders")
    e.add_argument("--room-frontend", nargs="*", default=[], metavar="FRONTEND", help="degraded front-ends of the same scenes to draw training audio from (augmentation)")
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
    h.add_argument("--heads", type=int, default=4, help="attention heads (the paper: 8 at d = 512)")
    h.add_argument("--window-summary", action=argparse.BooleanOptionalAction, default=False, help="classifier also reads question-gated window mean/max (not in the paper)")
    h.add_argument("--class-answers", action=argparse.BooleanOptionalAction, default=False, help="with --class-slots: each instrument class scores itself as the answer (not in the paper)")
    h.add_argument("--performers", action=argparse.BooleanOptionalAction, default=False, help="with --class-slots: each stage column is a performer token the question reasons over (not in the paper)")
    h.add_argument("--class-slots", action=argparse.BooleanOptionalAction, default=False, help="each noun phrase of the question reads its own class's evidence (not in the paper)")
    h.add_argument("--question-layers", type=int, default=1, help="transformer layers of the question encoder")
    h.add_argument("--summary-token", action="store_true", help="sentence = a learned summary token, not the mean of the words")
    h.add_argument("--oracle", metavar="DATASET", help="train on the ground truth's per-second facts (the head's ceiling)")
    h.add_argument("--concepts", metavar="READOUTS", help="append the encoders' facts, read by train.py readouts' maps (not in the paper)")
    r = sub.add_parser("readouts")
    r.add_argument("--features", required=True)
    r.add_argument("--dataset", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--steps", type=int, default=600)
    r.add_argument("--sight-from", metavar="CHECKPOINT", help="take the maps of what is seen (stage columns, frame) from a trained head's checkpoint instead of fitting them: only what reads the audio is fitted (the audio encoder changed, the frame encoder did not)")
    r.add_argument("--heard-hidden", type=int, default=0, metavar="N", help="read per second which classes sound by an MLP of N hidden units on the audio features and sight's readouts (model.py's sighted_hearing; not in the paper); 0: the linear audio map")
    r.add_argument("--heard-epochs", type=int, default=30)
    r.add_argument("--silent-features", metavar="FEATURES", help="with --heard-hidden: the training scenes' features with silent audio, where nothing sounds (npm run extract --counterfactual silent-audio)")
    for p in (h, r):
        p.add_argument("--room-features", nargs="*", default=[], metavar="FEATURES", help="the same scenes' features through rooms (npm run extract --degrade), drawn from in training")
    h.add_argument("--room-share", type=float, metavar="P", help="with --room-features: each example's audio through a room with probability P (default: as likely as clean, 1/2 with one room)")
    h.add_argument("--silence", type=float, default=0.0, metavar="SHARE", help="that share of the training questions silence leaves answerable hear silent audio (--silent-features) and are taught silence's answer (not in the paper)")
    h.add_argument("--silent-features", metavar="FEATURES", help="with --silence: the training scenes' features with silent audio (npm run extract --counterfactual silent-audio)")
    h.add_argument("--dataset", metavar="DIR", help="with --silence: the training scenes' dataset (their question templates)")
    h.add_argument("--resume", action="store_true", help="go on from the checkpoint of an interrupted run")
    h.add_argument("--init-from", metavar="CHECKPOINT", help="start from a trained head's weights (a checkpoint of the same configuration, slim or full: its best epoch), e.g. to fine-tune it on a widened audio stream it reads with zero weights (train.py export --readouts)")
    h.add_argument("--class-facts", action=argparse.BooleanOptionalAction, default=False, help="with --concepts and --class-slots: Concepts' per-class facts as ClassSlots channels (not in the paper)")
    h.add_argument("--rank-words", action=argparse.BooleanOptionalAction, default=False, help="with --performer-facts: rank words pick the performer holding that rank (RankPicker; not in the paper)")
    h.add_argument("--heard-count", action=argparse.BooleanOptionalAction, default=False, help="with --stage-rules: a count rule for the instruments heard (sounding performers on stage and classes heard off stage; not in the paper)")
    h.add_argument("--sound-in-view", action=argparse.BooleanOptionalAction, default=False, help="with --stage-rules: a rule for whether every sound comes from the stage (a class heard two seconds or more that no performer on stage holds says no; not in the paper)")
    h.add_argument("--train-only", nargs="+", metavar="PREFIX", help="train only the parameters whose names start with these prefixes (e.g. head.rules.view_gain: with --init-from, the gain of a rule added since), the rest frozen")
    h.add_argument("--stage-rules", action=argparse.BooleanOptionalAction, default=False, help="with --concepts and --class-slots: the stage questions' rules on thresholded readouts, weighed by the question (StageRules; not in the paper)")
    h.add_argument("--performer-facts", action=argparse.BooleanOptionalAction, default=False, help="with --concepts and --performers: Concepts' per-class facts as ClassSlots channels, and per performer ranked (not in the paper)")
    h.add_argument("--held-out", nargs="*", default=[], metavar="FEATURES", help="after training, accuracy on every question of these held-out sets' features (npm run extract's OUT/features)")
    h.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device to train on (default: cuda where torch sees a GPU)")
    h.add_argument("--export", action=argparse.BooleanOptionalAction, default=None, help="export the ONNX files (default: only for --seed 0); with --resume after the last epoch, re-exports without training")
    for p in (e, h, r):
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--max-steps", type=int, default=0)
    x = sub.add_parser("export")
    for p in (h, x):
        p.add_argument("--lookalikes-by-sound", action=argparse.BooleanOptionalAction, default=False, help="with --stage-rules: a stage column read as flute or clarinet (acoustic guitar or ukulele) takes the one the audio hears (model.py's lookalikes_by_sound; not in the paper)")
        p.add_argument("--onset-rates", action=argparse.BooleanOptionalAction, default=False, help="with --stage-rules heads on audio features that end with TinyOnsets' facts: rhythm compared by its onsets per second where it hears the part (model.py's StageRules.rates_by_ear; not in the paper)")
    x.add_argument("checkpoint")
    x.add_argument("--out")
    x.add_argument("--variant", choices=sorted(VARIANTS), default="full")
    x.add_argument("--slim", metavar="PATH")
    x.add_argument("--readouts", metavar="READOUTS", help="with --concepts heads: Concepts' maps from train.py readouts, fitted again (a wider audio stream is read by the maps; the learned weights read its new dimensions as zero)")
    x.add_argument("--stage-count-by-sight", action=argparse.BooleanOptionalAction, default=False, help="with --stage-rules heads: two neighbouring columns of one class are two performers where the frame readout counts them (model.py's unmerged_by_count; not in the paper)")
    x.add_argument("--stereo-templates", metavar="JSON", help="with --stage-rules heads: each performer heard where it stands: loudness, and which of two of a class sounds (train.py stereo-templates; model.py's stereo_power; not in the paper)")
    t = sub.add_parser("stereo-templates")
    t.add_argument("--features", required=True)
    t.add_argument("--dataset", required=True)
    t.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.command == "export" and not (args.out or args.slim):
        parser.error("export needs --out or --slim")
    if args.command == "head" and args.silence and not (args.silent_features and args.dataset):
        parser.error("--silence needs --silent-features and --dataset")
    # Threads: OMP_NUM_THREADS when set; else every core for the encoders (convolutions), one for
    # the head — its small matrices ran 3× slower on two threads than on one (1.6 against 5.4
    # steps/s here, a quarter of the time in the kernel), and one leaves a core for another run.
    threads = int(os.environ.get("OMP_NUM_THREADS") or 0)
    torch.set_num_threads(threads or (max(1, os.cpu_count() or 1) if args.command == "encoders" else 1))
    {"encoders": train_encoders, "head": train_head, "readouts": fit_readouts, "export": export_checkpoint, "stereo-templates": fit_stereo_templates}[args.command](args)


if __name__ == "__main__":
    main()
