"""Would the stereo mix tell which of a look-alike pair stands where? (issue #11; exploratory probe)

    /usr/bin/python3 models/qstar/stereo_probe.py DATASET FEATURES CHECKPOINT [--train-videos 400]

The scenes' mix is stereo, each part panned to where its performer stands (server/synth/mixdown.ts),
and the front-end downmixes it to mono. Here, from the mix alone: per second and mel band, the
energy of the left and right channels; per class a spectral template (the mean normalised spectrum
of the seconds a training scene has that class playing alone); a class's pan is its template's
weight on (right − left) over (right + left), summed over the seconds the audio map hears it (the
head's Concepts, from CHECKPOINT, on FEATURES) or, for comparison, the seconds the truth has it
play. On every test / validation scene with one of each of a pair on stage, both playing, the
one panned further left is guessed to stand left. Prints how often that is right.
"""

import argparse
import collections
import json
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import FFT, FRAME, HOP, SEGMENT_SAMPLES, QStar, QStarConfig, vggish_mel_matrix  # noqa: E402
from scene_truth import INSTRUMENTS, LOOKALIKE_PAIRS  # noqa: E402

RATE, WINDOW, SECONDS = SEGMENT_SAMPLES, FRAME, 10
MEL = vggish_mel_matrix()  # the front-end's 64 log-mel bands, 125 Hz – 7.5 kHz
BANDS = MEL.shape[0]


def channel_energy(video):
    """(2, SECONDS, BANDS): mel-band energy of the left and right channels, per second."""
    command = ["ffmpeg", "-v", "error", "-i", video, "-f", "f32le", "-ac", "2", "-ar", str(RATE), "-"]
    pcm = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, np.float32).reshape(-1, 2).T
    energy, window = np.zeros((2, SECONDS, BANDS)), np.hanning(WINDOW)
    for t in range(SECONDS):
        second = pcm[:, t * RATE : (t + 1) * RATE]
        if second.shape[1] < WINDOW:
            continue
        frames = np.stack([second[:, i : i + WINDOW] * window for i in range(0, second.shape[1] - WINDOW + 1, HOP)], 1)
        energy[:, t] = (np.abs(np.fft.rfft(frames, FFT)) ** 2 @ MEL.T).sum(1)
    return energy


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset")
    parser.add_argument("features")
    parser.add_argument("checkpoint")
    parser.add_argument("--train-videos", type=int, default=400, help="training scenes the templates are taken from")
    args = parser.parse_args()
    videos_of = lambda split: sorted({q["video_id"] for q in json.load(open(os.path.join(args.dataset, f"avqa-{split}.json")))})  # noqa: E731
    truth_of = lambda video: json.load(open(os.path.join(args.dataset, "truth", f"{video}.json")))  # noqa: E731
    video_path = lambda video: os.path.join(args.dataset, "videos", f"{video}.mp4")  # noqa: E731

    sums, solo = np.zeros((len(INSTRUMENTS), BANDS)), np.zeros(len(INSTRUMENTS))
    for video in videos_of("train")[: args.train_videos]:
        truth, energy = truth_of(video), channel_energy(video_path(video)).sum(0)
        for t in range(SECONDS):
            playing = [p for p in truth["performers"] if p["active"][t]]
            voice = truth["voiceover"]
            if len(playing) == 1 and not (voice and voice["start"] < t + 1 and voice["end"] > t):
                c = INSTRUMENTS.index(playing[0]["instrument"])
                sums[c] += energy[t] / energy[t].sum()
                solo[c] += 1
    templates = sums / np.maximum(solo, 1)[:, None]
    print("solo seconds:", {INSTRUMENTS[c]: int(solo[c]) for pair in LOOKALIKE_PAIRS for c in pair})

    saved = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    head = QStar(QStarConfig(**saved["config"]))
    head.load_state_dict({k[len("head.") :]: v for k, v in saved["best_state"].items() if k.startswith("head.")})
    head.eval()
    feature_videos = json.load(open(os.path.join(args.features, "features.json")))["videos"]

    def heard_by_ear(video):
        i = feature_videos.index(video)
        load = lambda name: torch.from_numpy(np.array(np.load(os.path.join(args.features, f"{name}.npy"), mmap_mode="r")[i : i + 1])).float()  # noqa: E731
        with torch.no_grad():
            return head.concepts(load("frames"), load("patches"), load("audio"), load("ast"))[3]["sounds_by_ear"][0].numpy() > 0.5

    right = collections.Counter()
    for video in videos_of("test") + videos_of("val"):
        truth = truth_of(video)
        for a, b in LOOKALIKE_PAIRS:
            standing = [[p for p in truth["performers"] if p["instrument"] == INSTRUMENTS[c] and p["x"] is not None] for c in (a, b)]
            if any(len(s) != 1 or not any(s[0]["active"]) for s in standing):
                continue
            energy, ear = channel_energy(video_path(video)), heard_by_ear(video)
            side, total = energy[1] - energy[0], energy[1] + energy[0]
            for seconds in ("heard by ear", "the truth's"):
                pans = []
                for c, (performer,) in zip((a, b), standing):
                    on = ear[:, c] if seconds == "heard by ear" else np.array(performer["active"], bool)
                    pans.append((side[on] @ templates[c]).sum() / max(1e-9, (total[on] @ templates[c]).sum()))
                right[seconds] += (pans[0] < pans[1]) == (standing[0][0]["x"] < standing[1][0]["x"])
            right["stages"] += 1
    by_ear, by_truth = right["heard by ear"], right["the truth's"]
    print(f"which of a pair stands left, from the stereo mix: {by_ear} of {right['stages']} right (seconds heard by ear), {by_truth} (the truth's seconds)")


if __name__ == "__main__":
    main()
