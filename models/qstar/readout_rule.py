"""Does the head lose what the encoders know? Rules on the encoders' readouts, per template.

    /usr/bin/python3 models/qstar/readout_rule.py READOUTS.pt HELDOUT_SET [HELDOUT_SET ...]

Performers are read from train.py readouts' maps alone: a stage column where some class is seen
with probability > 0.5 (window mean) holds a performer of its most likely class; the audio map
says, per second, whether that class sounds (> 0.5; by sighted hearing where the readouts have
it), how loud and how high. A rule then answers the stage questions (leftest / rightest, where
the first / last sounding one stands, the k-th to come in, where the loudest / lowest one stands,
whether the one on one side is louder than the one on another). The same rules on the scene's
truth check the rules themselves. Prints accuracy per template on every such question of the
held-out sets (SET/synth/avqa-all.json, SET/out/features).
A head that answers these far below the rule does not compute the relation from facts it is given.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import sighted_hearing  # noqa: E402
from scene_truth import CLASSES, COLUMNS, INSTRUMENTS, region_of  # noqa: E402

REGIONS = ["left", "middle", "right"]
ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def performers_from_readouts(readouts, patches, audio_in, frames):
    """[(column, class, entry second | None, loudness dB, pitch)] left to right."""
    w, b = readouts["columns"]
    columns = torch.sigmoid(patches @ w.t() + b)
    seen = columns[..., :CLASSES].mean(0)  # (columns, classes)
    w, b = readouts["audio"]
    facts = audio_in @ w.t() + b  # (T, 4k + 1)
    if "heard" in readouts:  # fitted with --heard-hidden: sighted hearing, as the head reads it
        w, b = readouts["frame"]
        facts[:, :CLASSES] = sighted_hearing(audio_in, torch.sigmoid(frames @ w.t() + b)[..., :CLASSES], columns, *readouts["heard"])
    heard = torch.sigmoid(facts[:, :CLASSES]) > 0.5
    loud, pitch = facts[:, CLASSES : 2 * CLASSES] * 10 - 30, facts[:, 3 * CLASSES : 4 * CLASSES] * 12 + 60
    found = []
    for column in range(COLUMNS):
        if seen[column].max() <= 0.5:
            continue
        c = int(seen[column].argmax())
        on = heard[:, c].nonzero()[:, 0]
        entry = float(on[0]) if len(on) else None
        found.append((column, c, entry, float(loud[on, c].mean()) if len(on) else -99.0, float(pitch[on, c].mean()) if len(on) else 0.0))
    return found


def performers_from_truth(truth):
    found = []
    for p in sorted((p for p in truth["performers"] if p["x"] is not None), key=lambda p: p["x"]):
        active = [s for s, a in enumerate(p["active"]) if a]
        entry = p["onsets"][0] if active and p["onsets"] else None
        energy = np.mean([10 ** (p["loudnessDb"][s] / 10) for s in active]) if active else 0
        loud = 10 * np.log10(energy) if active else -99.0
        found.append((min(COLUMNS - 1, int(p["x"] * COLUMNS)), INSTRUMENTS.index(p["instrument"]), entry, loud, p["medianPitch"] or 0, p["x"]))
    return found


def region(performer):
    return REGIONS[region_of(performer[5] if len(performer) > 5 else (performer[0] + 0.5) / COLUMNS)]


def entering(performers):
    return sorted((p for p in performers if p[2] is not None), key=lambda p: p[2])


def in_region(performers, name):
    there = [p for p in performers if region(p) == name]
    return there[0] if len(there) == 1 else None


RULES = {
    "What kind of instrument is the <LRer> instrument?": lambda ps, v: INSTRUMENTS[(ps[0] if v[0] == "leftest" else ps[-1])[1]] if ps else None,
    "Where is the <FL> sounding instrument?": lambda ps, v: region(entering(ps)[0 if v[0] == "first" else -1]) if entering(ps) else None,
    "What is the <TH> instrument that comes in?": lambda ps, v: INSTRUMENTS[entering(ps)[ORDINALS.index(v[0])][1]] if len(entering(ps)) > ORDINALS.index(v[0]) else None,
    "Where is the <LL> instrument?": lambda ps, v: region(max((p for p in ps if p[2] is not None), key=lambda p: p[3] if v[0] == "loudest" else -p[4])) if entering(ps) else None,
    "Is the instrument on the <LR> louder than the instrument on the <LR>?": lambda ps, v: (
        ("yes" if in_region(ps, v[0])[3] > in_region(ps, v[1])[3] else "no") if in_region(ps, v[0]) and in_region(ps, v[1]) else None
    ),
}


def main(readouts_path, sets):
    readouts = torch.load(readouts_path)
    scores = {t: [0, 0, 0] for t in RULES}  # rule on readouts right, rule on truth right, total
    for held_out in sets:
        features = os.path.join(held_out, "out", "features")
        with open(os.path.join(features, "features.json")) as f:
            videos = {v: i for i, v in enumerate(json.load(f)["videos"])}
        load = lambda name: torch.from_numpy(np.load(os.path.join(features, f"{name}.npy")))
        patches, audio, ast, frames = load("patches"), load("audio"), load("ast"), load("frames")
        audio_in = torch.cat([audio, ast.flatten(2)], -1)
        with open(os.path.join(held_out, "synth", "avqa-all.json")) as f:
            questions = [q for q in json.load(f) if q["question_content"] in RULES]
        for q in questions:
            v = videos[q["video_id"]]
            with open(os.path.join(held_out, "synth", "truth", f"{q['video_id']}.json")) as f:
                truth = performers_from_truth(json.load(f))
            rule, values = RULES[q["question_content"]], json.loads(q["templ_values"])
            read = performers_from_readouts(readouts, patches[v], audio_in[v], frames[v])
            score = scores[q["question_content"]]
            score[0] += rule(read, values) == q["anser"]
            score[1] += rule(truth, values) == q["anser"]
            score[2] += 1
    for template, (on_readouts, on_truth, total) in scores.items():
        print(f"{template}  rule on readouts {100 * on_readouts / max(1, total):.1f} %, on truth {100 * on_truth / max(1, total):.1f} % ({total} questions)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
