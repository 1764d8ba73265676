"""Markdown tables from models/diagnose.sh's outputs, with standard errors and significance.

    /usr/bin/python3 models/qstar/report.py DIAGNOSE_DIR [--annotations-name avqa-all.json]
    /usr/bin/python3 models/qstar/report.py --heads ABLATION_DIR

Per held-out set and pooled over sets: accuracy per type (pooled, correct/total), overall with its
standard error, for the template prior, each served variant and each counterfactual; McNemar's
exact test between full QSTar and every other variant (same questions); the instrument probe.
With --heads: models/ablation.sh's runs (variant x training seed), pooled over their held-out
sets, each variant pooled over its seeds, and McNemar of each against full on the same seeds.
"""

import argparse
import glob
import json
import math
import os

TYPES = [
    ("Audio", "Counting"), ("Audio", "Comparative"), ("Visual", "Counting"), ("Visual", "Location"),
    ("Audio-Visual", "Existential"), ("Audio-Visual", "Counting"), ("Audio-Visual", "Location"),
    ("Audio-Visual", "Comparative"), ("Audio-Visual", "Temporal"),
]  # fmt: skip
SHORT = ["A Cnt", "A Cmp", "V Cnt", "V Loc", "AV Ext", "AV Cnt", "AV Loc", "AV Cmp", "AV Tmp"]


def load(path):
    with open(path) as f:
        return json.load(f)


def tallies(report):
    per_type = {(t["type"]["modality"], t["type"]["kind"]): (t["correct"], t["total"]) for t in report["perType"]}
    per_modality = {m["modality"]: (m["correct"], m["total"]) for m in report["perModality"]}
    return per_type, per_modality, (report["overall"]["correct"], report["overall"]["total"])


def add(a, b):
    return (a[0] + b[0], a[1] + b[1])


def pct(tally):
    return 100 * tally[0] / max(1, tally[1])


def standard_error(tally):
    p = tally[0] / max(1, tally[1])
    return 100 * math.sqrt(p * (1 - p) / max(1, tally[1]))


def mcnemar(a, b, truth):
    """Exact two-sided McNemar test on paired predictions: (b_only, c_only, p)."""
    only_a = sum(1 for q, t in truth.items() if a.get(q) == t and b.get(q) != t)
    only_b = sum(1 for q, t in truth.items() if b.get(q) == t and a.get(q) != t)
    n, k = only_a + only_b, min(only_a, only_b)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0
    return only_a, only_b, p


def predictions(path):
    with open(path) as f:
        return {row["question_id"]: row["answer"] for row in map(json.loads, filter(str.strip, f))}


def truth_of(annotations):
    return {a["question_id"]: a["anser"] for a in load(annotations)}


def row(name, per_type, per_modality, overall):
    cells = [f"{pct(per_type[t]):.1f}" for t in TYPES]
    cells += [f"{pct(per_modality[m]):.1f}" for m in ("Audio", "Visual", "Audio-Visual")]
    return f"| {name} | " + " | ".join(cells) + f" | **{pct(overall):.1f}** ± {standard_error(overall):.1f} |"


def pooled_run(report):
    """A head report's held-out results pooled over its sets: per type and overall tallies, outcomes."""
    per_type, overall, outcomes = {t: (0, 0) for t in TYPES}, (0, 0), ""
    for result in (report["held_out"][k] for k in sorted(report["held_out"])):
        for kind, tally in result["counts"].items():
            key = tuple(kind.split("/"))
            per_type[key] = add(per_type[key], tally)
        overall, outcomes = add(overall, (result["correct"].count("1"), len(result["correct"]))), outcomes + result["correct"]
    return per_type, overall, outcomes


def heads_table(directory):
    runs = {}
    for path in glob.glob(os.path.join(directory, "head-report-*.json")):
        report = load(path)
        if "held_out" in report:
            runs[(report["variant"], report["seed"])] = pooled_run(report)
    header = "| variant | seeds | " + " | ".join(SHORT) + " | Overall ± SE | per seed |"
    print(f"{header}\n|" + "---|" * (len(SHORT) + 4))
    variants = sorted({v for v, _ in runs}, key=lambda v: (v != "full", v))
    for variant in variants:
        seeds = sorted(s for v, s in runs if v == variant)
        per_type, overall = {t: (0, 0) for t in TYPES}, (0, 0)
        for seed in seeds:
            t, o, _ = runs[(variant, seed)]
            per_type, overall = {k: add(per_type[k], t[k]) for k in TYPES}, add(overall, o)
        cells = " | ".join(f"{pct(per_type[t]):.1f}" for t in TYPES)
        each = ", ".join(f"{pct(runs[(variant, s)][1]):.1f}" for s in seeds)
        print(f"| {variant} | {len(seeds)} | {cells} | **{pct(overall):.1f}** ± {standard_error(overall):.1f} | {each} |")
    print("\nMcNemar (exact, two-sided) of full against each variant, same training seeds paired:\n")
    for variant in variants[1:]:
        pairs = [(runs[("full", s)][2], runs[(variant, s)][2]) for v, s in sorted(runs) if v == variant and ("full", s) in runs]
        full, other = "".join(a for a, _ in pairs), "".join(b for _, b in pairs)
        truth = {i: "1" for i in range(len(full))}
        a, b, p = mcnemar({i: c for i, c in enumerate(full)}, {i: c for i, c in enumerate(other)}, truth)
        print(f"- full vs {variant} ({len(pairs)} seeds): full alone right on {a}, {variant} alone right on {b}, p = {p:.2g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--annotations-name", default="avqa-all.json")
    parser.add_argument("--heads", action="store_true", help="DIRECTORY is models/ablation.sh's output")
    args = parser.parse_args()
    if args.heads:
        return heads_table(args.directory)
    sets = sorted(d for d in glob.glob(os.path.join(args.directory, "seed*")) if os.path.exists(os.path.join(d, "prior.json")))
    names = ["prior"] + sorted(
        {os.path.basename(p)[len("accuracy-") : -len(".json")] for d in sets for p in glob.glob(os.path.join(d, "accuracy-*.json"))},
        key=lambda n: (n.startswith("full-"), n != "full", n),  # full, other variants, counterfactuals
    )
    pooled = {}
    header = "| model | " + " | ".join(SHORT) + " | Audio | Visual | AV | Overall ± SE |"
    rule = "|" + "---|" * (len(SHORT) + 5)
    for d in sets:
        print(f"\n{os.path.basename(d)}: {load(os.path.join(d, 'prior.json'))['overall']['total']} questions\n\n{header}\n{rule}")
        for name in names:
            path = os.path.join(d, "prior.json" if name == "prior" else f"accuracy-{name}.json")
            if not os.path.exists(path):
                continue
            t, m, o = tallies(load(path))
            print(row(name, t, m, o))
            if name in pooled:
                pt, pm, po = pooled[name]
                pooled[name] = ({k: add(pt[k], t[k]) for k in t}, {k: add(pm[k], m[k]) for k in m}, add(po, o))
            else:
                pooled[name] = (t, m, o)
    print(f"\npooled over {len(sets)} held-out sets\n\n{header}\n{rule}")
    for name, (t, m, o) in pooled.items():
        print(row(name, t, m, o))

    print("\nMcNemar (exact, two-sided) of full QSTar against each other variant, pooled:\n")
    truth, preds = {}, {}
    for d in sets:
        key = os.path.basename(d)
        for q, answer in truth_of(os.path.join(d, "synth", args.annotations_name)).items():
            truth[(key, q)] = answer
        for path in glob.glob(os.path.join(d, "predictions-*.jsonl")):
            variant = os.path.basename(path)[len("predictions-") : -len(".jsonl")]
            preds.setdefault(variant, {}).update({(key, q): a for q, a in predictions(path).items()})
    for variant in sorted(preds):
        if variant != "full" and "full" in preds:
            a, b, p = mcnemar(preds["full"], preds[variant], truth)
            print(f"- full vs {variant}: full alone right on {a}, {variant} alone right on {b}, p = {p:.2g}")

    print("\ninstrument probe (balanced accuracy %):\n")
    for d in sets:
        path = os.path.join(d, "probe.json")
        if os.path.exists(path):
            r = load(path)
            parts = [f"{k} {100 * r[k]['balancedAccuracy']:.1f}" for k in ("sound", "sight", "sightWithoutLookalikes", "sightLookalikes")]
            print(f"- {os.path.basename(d)} ({r['scenes']} scenes): " + ", ".join(parts))


if __name__ == "__main__":
    main()
