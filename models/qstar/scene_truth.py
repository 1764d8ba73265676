"""Per-second targets from the synthetic scenes' ground truth (DATASET/truth/*.json).

They pretrain the tiny frozen encoders (what an AudioSet/CLIP pretraining teaches the paper's
extractors: which instruments sound, how loud, how busy, how high; which are seen where) and they
are the oracle inputs that measure the head's ceiling (`train.py head --oracle`).
"""

import json
import os

import numpy as np

INSTRUMENTS = [
    "accordion", "acoustic_guitar", "bagpipe", "banjo", "bassoon", "cello", "clarinet", "congas", "drum",
    "electric_bass", "erhu", "flute", "guzheng", "piano", "pipa", "saxophone", "suona", "trumpet", "tuba",
    "ukulele", "violin", "xylophone",
]  # fmt: skip
CLASSES = len(INSTRUMENTS)
# Drawn alike on stage, told apart by ear (server/synth/instrument-catalog.ts's LOOKALIKE_PAIRS).
LOOKALIKE_PAIRS = tuple((INSTRUMENTS.index(a), INSTRUMENTS.index(b)) for a, b in (("flute", "clarinet"), ("acoustic_guitar", "ukulele")))
COLUMNS = 8  # the frame encoder's tokens: one per stage column (patch grid 1 × 8)
SILENT_DB = -60.0  # loudness target of a class that does not sound


def region_of(x):
    """Thirds of the stage, as server/synth/ground-truth.ts draws them."""
    return 0 if x < 0.4 else 2 if x > 0.6 else 1


def read_truths(dataset, videos):
    truths = []
    for video in videos:
        with open(os.path.join(dataset, "truth", f"{video}.json")) as f:
            truths.append(json.load(f))
    return truths


def audio_targets(truths, segments):
    """Per (video, second), per class: sounds (0/1), loudness dBFS (max over its performers;
    SILENT_DB when silent), onsets in that second, median MIDI pitch (0 when unpitched or silent);
    and whether a voiceover speaks in that second."""
    shape = (len(truths), segments, CLASSES)
    heard, loudness = np.zeros(shape, np.float32), np.full(shape, SILENT_DB, np.float32)
    onsets, pitch = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    voice = np.zeros((len(truths), segments, 1), np.float32)
    for v, truth in enumerate(truths):
        for p in truth["performers"]:
            c = INSTRUMENTS.index(p["instrument"])
            for s in range(segments):
                if not p["active"][s]:
                    continue
                heard[v, s, c] = 1
                loudness[v, s, c] = max(loudness[v, s, c], p["loudnessDb"][s])
                onsets[v, s, c] += sum(1 for t in p["onsets"] if s <= t < s + 1)
                if p["medianPitch"] is not None:
                    pitch[v, s, c] = p["medianPitch"]
        spoken = truth["voiceover"]
        if spoken:
            for s in range(segments):
                voice[v, s, 0] = float(min(s + 1, spoken["end"]) - max(s, spoken["start"]) > 0.3)
    return {"heard": heard, "loudness": loudness, "onsets": onsets, "pitch": pitch, "voice": voice}


def onset_frames(truths, segments, frames=96, hop=0.01):
    """Per (video, second, 10 ms frame of its VGGish example), per class: 1 where a note starts,
    ½ a frame either side (onset times are not frame-exact). (V, segments, frames, CLASSES)."""
    target = np.zeros((len(truths), segments, frames, CLASSES), np.float32)
    for v, truth in enumerate(truths):
        for p in truth["performers"]:
            c = INSTRUMENTS.index(p["instrument"])
            for onset in p["onsets"]:
                s, f = int(onset), int(round((onset - int(onset)) / hop))
                if s >= segments or f >= frames:
                    continue  # past the window, or in the 40 ms an example leaves out
                for d, weight in ((-1, 0.5), (0, 1.0), (1, 0.5)):
                    if 0 <= f + d < frames:
                        target[v, s, f + d, c] = max(target[v, s, f + d, c], weight)
    return target


def frame_targets(truths, segments):
    """Per (video, second): classes seen in each of the COLUMNS stage columns, and playing there;
    classes seen anywhere; outdoor venue; how many performers are on stage."""
    columns = np.zeros((len(truths), segments, COLUMNS, 2 * CLASSES), np.float32)
    seen = np.zeros((len(truths), segments, CLASSES), np.float32)
    venue = np.zeros((len(truths), segments, 1), np.float32)
    count = np.zeros((len(truths), segments, 1), np.float32)
    for v, truth in enumerate(truths):
        venue[v, :, 0] = float(truth["venue"] == "outdoor")
        for p in truth["performers"]:
            if p["x"] is None:
                continue
            c, column = INSTRUMENTS.index(p["instrument"]), min(COLUMNS - 1, int(p["x"] * COLUMNS))
            count[v, :, 0] += 1
            seen[v, :, c] = 1
            columns[v, :, column, c] = 1
            for s in range(segments):
                columns[v, s, column, CLASSES + c] = max(columns[v, s, column, CLASSES + c], float(p["active"][s]))
    return {"columns": columns, "seen": seen, "venue": venue, "count": count}


def oracle_features(truths, segments):
    """What perfect encoders would report, laid out in the head's four input slots (tiny sizes):
    audio (T, 89): per class sounds, loudness, onsets, pitch, and the voiceover;
    ast (T, 3, 23): per band of pitch (low, mid, high) the loudness of the classes sounding there, and the voiceover;
    frames (T, 24): classes seen, venue, performer count;
    patches (T, COLUMNS, 53): per stage column the classes seen and playing, whether anyone is there,
    and which column it is (one-hot)."""
    a, f = audio_targets(truths, segments), frame_targets(truths, segments)
    loud = (a["loudness"] - SILENT_DB) / 20.0
    onsets, pitch = np.log1p(a["onsets"]), a["pitch"] / 60.0
    audio = np.concatenate([a["heard"], loud, onsets, pitch, a["voice"]], axis=-1)
    bands = []
    for low, high in ((0, 56), (56, 72), (72, 128)):
        inside = ((a["pitch"] >= low) & (a["pitch"] < high) & (a["heard"] > 0)).astype(np.float32)
        bands.append(np.concatenate([inside * loud, a["voice"]], axis=-1))
    ast = np.stack(bands, axis=2)
    frames = np.concatenate([f["seen"], f["venue"], f["count"] / 5.0], axis=-1)
    anyone = f["columns"][..., :CLASSES].max(-1, keepdims=True)
    # Where each column is: a real encoder's patch tokens carry their position too.
    where = np.broadcast_to(np.eye(COLUMNS, dtype=np.float32), (*anyone.shape[:2], COLUMNS, COLUMNS))
    patches = np.concatenate([f["columns"], anyone, where], axis=-1)
    return {"frames": frames, "patches": patches, "audio": audio, "ast": ast}
