"""Does the head lose what the encoders know? A rule on the encoders' readouts, for one template.

    /usr/bin/python3 models/qstar/readout_rule.py READOUTS.pt HELDOUT_SET [HELDOUT_SET ...]

"What kind of instrument is the leftest / rightest instrument?": the per-column "seen" readout
(train.py readouts' column map) averaged over the window, the first (or last) column where some
class is seen with probability > 0.5, and that column's most likely class. Prints its accuracy
on every such question of the held-out sets (SET/synth/avqa-all.json, SET/out/features), and how
often the column and the class were right against the scene's truth. A head that answers these
far below the rule does not compute the relation from facts it is given.
"""

import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scene_truth import COLUMNS, INSTRUMENTS  # noqa: E402

TEMPLATE = "What kind of instrument is the <LRer> instrument?"


def main(readouts_path, sets):
    weight, bias = torch.load(readouts_path)["columns"]
    right, total, found = 0, 0, {"column and class right": 0, "column right, class wrong": 0, "column wrong": 0}
    for held_out in sets:
        features = os.path.join(held_out, "out", "features")
        with open(os.path.join(features, "features.json")) as f:
            videos = {v: i for i, v in enumerate(json.load(f)["videos"])}
        patches = torch.from_numpy(np.load(os.path.join(features, "patches.npy")))
        seen = torch.sigmoid(patches @ weight.t() + bias)[..., : len(INSTRUMENTS)].mean(1)  # (V, columns, classes)
        with open(os.path.join(held_out, "synth", "avqa-all.json")) as f:
            questions = [q for q in json.load(f) if q["question_content"] == TEMPLATE]
        for q in questions:
            leftest = json.loads(q["templ_values"])[0] == "leftest"
            columns = seen[videos[q["video_id"]]]
            occupied = [c for c in range(COLUMNS) if columns[c].max() > 0.5]
            column = (occupied[0] if leftest else occupied[-1]) if occupied else None
            answer = INSTRUMENTS[int(columns[column].argmax())] if column is not None else None
            right, total = right + (answer == q["anser"]), total + 1
            with open(os.path.join(held_out, "synth", "truth", f"{q['video_id']}.json")) as f:
                standing = sorted((p for p in json.load(f)["performers"] if p["x"] is not None), key=lambda p: p["x"])
            truth = standing[0] if leftest else standing[-1]
            if column != min(COLUMNS - 1, int(truth["x"] * COLUMNS)):
                found["column wrong"] += 1
            else:
                found["column and class right" if answer == truth["instrument"] else "column right, class wrong"] += 1
    print(f"{TEMPLATE} rule on the readouts: {right}/{total} = {100 * right / max(1, total):.1f} %; {found}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
