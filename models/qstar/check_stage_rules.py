"""StageRules on a stage whose answers are known: each rule must give exactly the answer a musician
would. Run by test/stage-rules.test.ts (exit status 0 when every check holds).

    /usr/bin/python3 models/qstar/check_stage_rules.py

The stage, 6 seconds, 8 columns: a violin seen across columns 0 and 1 (one performer), coming in
at second 2, loud, slow, low; a flute in column 4 (the middle third), playing from second 0,
quiet, busy, high; a cello in column 7 that never plays. With `heard_off_stage`, a piano is heard
too, from second 1, and stands nowhere. Look-alikes (lookalikes_by_sound), on a stage of their
own: sight reads a flute in columns 1 and 5; by ear the flute plays seconds 0–2 and a clarinet
seconds 3–5, and column 1 is seen playing in seconds 3–5. Stereo (stereo_power): the same
stage heard in stereo, the flute (middle) four times the violin's (left) power, against what
the mono readouts say (the violin louder); and two violins (columns 1 and 6) of which only the
left one plays, where the mono readouts hear "violin" and cannot say which; and the look-alike
stage heard in stereo with the flute standing where the timing put the clarinet. Onset rates
(onset_rates): TinyOnsets hears the violin busier than the flute, against the readouts. Sound in
view (sound_in_view): the piano heard off stage, and a clarinet heard where sight reads a flute.
Count by sight (stage_count_by_sight): the violin across two columns is two violins when the
frame readout counts four performers.
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import COUNT_WORDS, PERFORMER_COUNT_SCALE, QStarConfig, StageRules, lookalikes_by_sound, thresholded_performers, word_codes  # noqa: E402
from export import stereo_example  # noqa: E402
from scene_truth import INSTRUMENTS, LOOKALIKE_PAIRS  # noqa: E402

T, P, C = 6, 8, len(INSTRUMENTS)
VIOLIN, FLUTE, CELLO, PIANO, CLARINET = (INSTRUMENTS.index(name) for name in ("violin", "flute", "cello", "piano", "clarinet"))


def stage(heard_off_stage=False):
    """Concepts' readouts as the head gets them: columns (1, T, P, C) and per_class (1, T, C, 4)."""
    columns = torch.full((1, T, P, C), 0.05)
    for column, c in ((0, VIOLIN), (1, VIOLIN), (4, FLUTE), (7, CELLO)):
        columns[0, :, column, c] = 0.9
    per_class = torch.zeros(1, T, C, 4)
    parts = [(VIOLIN, 2, 2.0, 1.0, 1.0), (FLUTE, 0, 0.5, 3.0, 2.0)] + ([(PIANO, 1, 1.0, 1.0, 0.5)] if heard_off_stage else [])
    for c, start, loud, onsets, pitch in parts:
        heard = torch.zeros(T)
        heard[start:] = 0.9
        per_class[0, :, c] = torch.stack([heard, heard * loud, heard * onsets, heard * pitch], -1)
    per_class[0, :, CELLO, 0] = 0.1
    return {"columns": columns, "per_class": per_class}


def lookalike_stage():
    """Sight reads a flute in columns 1 and 5 (a flute and a clarinet stand there: they look
    alike); by ear the flute plays seconds 0–2, the clarinet 3–5; column 1 is seen playing in
    3–5, column 5 in 0–2. Concepts' readouts with what lookalikes_by_sound reads besides."""
    columns, playing = torch.full((1, T, P, C), 0.05), torch.full((1, T, P, C), 0.05)
    by_ear, per_class = torch.full((1, T, C), 0.02), torch.zeros(1, T, C, 4)
    for column, c, seconds in ((1, CLARINET, slice(3, 6)), (5, FLUTE, slice(0, 3))):
        columns[0, :, column, FLUTE], columns[0, :, column, CLARINET] = 0.8, 0.6
        playing[0, seconds, column, FLUTE] = playing[0, seconds, column, CLARINET] = 0.7
        by_ear[0, seconds, c] = 0.9
        per_class[0, seconds, c] = torch.tensor([0.9, 0.9, 0.9, 0.9])
    return {"columns": columns, "per_class": per_class, "sounds_by_ear": by_ear, "playing": playing}


def check_onset_rates(expect):
    """TinyOnsets' facts (log(1 + onsets), logit of sounding) say the violin plays 6 notes a second
    over the 4 seconds it sounds and the flute 2 over 6; the readouts said the flute was busier."""
    by_ear = torch.full((1, T, 2 * C), -5.0)
    by_ear[0, 2:, VIOLIN], by_ear[0, 2:, C + VIOLIN] = math.log(7.0), 5.0
    by_ear[0, :, FLUTE], by_ear[0, :, C + FLUTE] = math.log(3.0), 5.0
    by_ear[0, 0, FLUTE] = math.log(1.0)  # a quiet second still counts towards its rate
    rates = StageRules.rates_by_ear(by_ear, torch.ones(1, T, dtype=torch.bool))[0]
    expect("onset rates: violin, flute, cello (never heard)", [round(float(rates[c]), 3) for c in (VIOLIN, FLUTE, CELLO)], [round(math.log1p(6.0), 3), round(math.log1p(10 / 6), 3), -100.0])
    facts = dict(stage(), onsets_by_ear=by_ear)
    for rates_on, want in ((False, "yes"), (True, "no")):
        rules = StageRules(QStarConfig(d_model=8, onset_rates=rates_on))
        by_class = answer(rules, 8, "is the flute louder than the violin", facts=facts)[2]
        expect(f"flute more rhythmic than violin (onset rates: {rates_on})", "yes" if by_class > 0 else "no", want)
        by_third = answer(rules, 3, "is the instrument on the middle louder than the instrument on the left", facts=facts)[2]
        expect(f"middle more rhythmic than left (onset rates: {rates_on})", "yes" if by_third > 0 else "no", want)


def check_sound_in_view(expect):
    """Whether every sound comes from the stage: the piano heard off stage says no; a clarinet
    heard where sight reads a flute (they look alike; the audio map alone too faint to give the
    column the clarinet) does not; a class heard for a second alone does not either."""
    rules = StageRules(QStarConfig(d_model=8, sound_in_view=True, lookalike_pairs=LOOKALIKE_PAIRS))
    # What lookalikes_by_sound reads besides: the audio map hears what the facts hear; no column seen playing.
    by_ear = lambda facts: dict(facts, sounds_by_ear=facts["per_class"][..., 0] * 0.05, playing=torch.zeros_like(facts["columns"]))  # noqa: E731
    verdict = lambda facts: "yes" if answer(rules, "in view", "the violin", facts=by_ear(facts))[2] > 0 else "no"  # noqa: E731
    expect("every sound on stage", verdict(stage()), "yes")
    expect("the piano heard off stage", verdict(stage(heard_off_stage=True)), "no")
    clarinet = stage()
    clarinet["per_class"][0, :, CLARINET] = clarinet["per_class"][0, :, FLUTE]
    clarinet["per_class"][0, :, FLUTE] = 0
    expect("a clarinet heard where a flute is seen", verdict(clarinet), "yes")
    brief = stage()
    brief["per_class"][0, 3, PIANO, 0] = 0.9
    expect("a piano heard for one second", verdict(brief), "yes")


def check_lookalikes(expect):
    """lookalikes_by_sound alone, then inside StageRules."""
    stage, valid = lookalike_stage(), torch.ones(1, T)
    one_hot = torch.zeros(1, P, C)
    one_hot[0, 1, FLUTE] = one_hot[0, 5, FLUTE] = one_hot[0, 7, VIOLIN] = 1
    resolve = lambda by_ear: lookalikes_by_sound(one_hot, LOOKALIKE_PAIRS, by_ear, stage["playing"], valid)  # noqa: E731
    named = lambda hot: [INSTRUMENTS[int(hot[0, p].argmax())] if hot[0, p].max() > 0 else None for p in (1, 5, 7)]  # noqa: E731
    expect("look-alikes both heard: each column takes the one keeping its time", named(resolve(stage["sounds_by_ear"])), ["clarinet", "flute", "violin"])
    flute_only = stage["sounds_by_ear"].clone()
    flute_only[..., CLARINET] = 0.02
    expect("one look-alike heard: both columns take it", named(resolve(flute_only)), ["flute", "flute", "violin"])
    expect("neither heard: sight's class stays", named(resolve(torch.full((1, T, C), 0.02))), ["flute", "flute", "violin"])
    # Sight split between the pair (0.4 flute, 0.35 clarinet in column 5): a performer still stands there.
    split = dict(stage, columns=stage["columns"].clone())
    split["columns"][0, :, 5, FLUTE], split["columns"][0, :, 5, CLARINET] = 0.4, 0.35
    for pairs, want in (((), [1]), (LOOKALIKE_PAIRS, [1, 5])):
        lookalikes = (pairs, split["sounds_by_ear"], split["playing"]) if pairs else None
        occupied = thresholded_performers(split["columns"], split["per_class"], torch.ones(1, T, dtype=torch.bool), lookalikes)[0]
        expect(f"performers standing, sight split between a pair (pairs: {len(pairs)})", occupied[0].nonzero()[:, 0].tolist(), want)
    for pairs, want in (((), "left"), (LOOKALIKE_PAIRS, "right")):
        side = answer(StageRules(QStarConfig(d_model=8, lookalike_pairs=pairs)), 1, "the first instrument", facts=stage)[1]
        expect(f"where the first sounding one is (look-alike pairs: {len(pairs)})", ("left", "middle", "right")[int(side.argmax())], want)


def panned(templates, parts, seconds=T):
    """(1, seconds, 2, BANDS): each (column, class, first second, power) part's template panned by
    constant power to its column's centre, plus a faint voiceover in the centre."""
    stereo = torch.zeros(1, seconds, 2, templates.shape[1])
    for column, c, start, power in parts:
        angle = (column + 0.5) / P * math.pi / 2
        gains = torch.tensor([math.cos(angle) ** 2, math.sin(angle) ** 2])
        stereo[0, start:] += power * gains[:, None] * templates[c]
    return stereo + 0.01 * templates[-1]


def stereo_stage(templates):
    """stage()'s sounds mixed in stereo: each class's template panned (constant power) to its
    column's centre — the violin at column 0 with power 1 from second 2, the flute at column 4
    with power 4 from second 0."""
    return panned(templates, ((0, VIOLIN, 2, 1.0), (4, FLUTE, 0, 4.0)))


def two_violins():
    """Violins seen in columns 1 and 6, the class heard throughout (Concepts' facts)."""
    columns, per_class = torch.full((1, T, P, C), 0.05), torch.zeros(1, T, C, 4)
    columns[0, :, 1, VIOLIN] = columns[0, :, 6, VIOLIN] = 0.9
    per_class[0, :, VIOLIN] = torch.tensor([0.9, 0.9, 0.9, 0.9])
    return {"columns": columns, "per_class": per_class}


def check_stereo(expect):
    """Who is louder by where it sounds, against the mono readouts (the violin louder there)."""
    templates = torch.rand(C + 1, 64, generator=torch.Generator().manual_seed(0)) + 0.05
    rules = StageRules(QStarConfig(d_model=8, stereo_templates=tuple(map(tuple, templates.tolist()))))
    stereo = stereo_stage(templates)
    mono = stereo.sum(2, keepdim=True).expand(-1, -1, 2, -1) / 2
    for heard_as, sound, want in (("stereo", stereo, ("no", "middle")), ("mono", mono, ("yes", "left")), ("no stereo input", None, ("yes", "left"))):
        louder = answer(rules, 2, "is the instrument on the left louder than the instrument on the middle", stereo=sound)[2]
        expect(f"left louder than middle, heard in {heard_as}", "yes" if louder > 0 else "no", want[0])
        side = answer(rules, 1, "the loudest instrument", stereo=sound)[1]
        expect(f"where the loudest is, heard in {heard_as}", ("left", "middle", "right")[int(side.argmax())], want[1])
    # Two violins, only the left one playing: the mono facts count both as sounding.
    only_left = panned(templates, ((1, VIOLIN, 0, 1.0),))
    both_mono = only_left.sum(2, keepdim=True).expand(-1, -1, 2, -1) / 2
    for heard_as, sound, want in (("stereo", only_left, (1, 1)), ("mono", both_mono, (2, 0))):
        got = []
        for count in (1, 2):  # sounding performers, silent ones
            counts = answer(rules, StageRules.RULES + count, "the violin", facts=two_violins(), stereo=sound)[3]
            got.append(int(counts.argmax()))
        expect(f"two violins, one playing, heard in {heard_as}: sounding, silent", tuple(got), want)
    # The look-alikes: timing gives column 1 the clarinet (it keeps that column's time); the mix has
    # the flute at column 1 and the clarinet at column 5, so by pan they swap; in mono they stay.
    alike = lookalike_stage()
    heard = panned(templates, ((1, FLUTE, 0, 1.0), (5, CLARINET, 0, 1.0)))
    for heard_as, sound, want in (("stereo", heard, ["flute", "clarinet"]), ("mono", heard.sum(2, keepdim=True).expand(-1, -1, 2, -1) / 2, ["clarinet", "flute"])):
        lookalikes = (LOOKALIKE_PAIRS, alike["sounds_by_ear"], alike["playing"])
        one_hot = thresholded_performers(alike["columns"], alike["per_class"], torch.ones(1, T, dtype=torch.bool), lookalikes, (sound, templates))[2]
        expect(f"look-alikes in columns 1 and 5, heard in {heard_as}", [INSTRUMENTS[int(one_hot[0, p].argmax())] for p in (1, 5)], want)
    random = stereo_example(2, T, torch.Generator().manual_seed(1))  # any input: finite loudness
    coded, mask = words("the loudest instrument")
    facts = {k: v.expand(2, *v.shape[1:]) for k, v in stage().items()}
    with torch.no_grad():
        outputs = rules(coded.expand(2, -1, -1), mask.expand(2, -1), torch.zeros(2, 8), facts, torch.ones(2, T, dtype=torch.bool), random)
    expect("finite answers on random stereo", all(bool(torch.isfinite(o).all()) for o in outputs), True)


VOCABULARY = sorted(set(INSTRUMENTS) | {"is", "the", "on", "of", "instrument", "left", "middle", "right", "than", "louder"} | {"first", "last", "loudest", "lowest", "second", "before", "after"})
CODES = word_codes(VOCABULARY, INSTRUMENTS, order_words=True)


def words(sentence):
    ids = [VOCABULARY.index(w) for w in sentence.split()]
    return CODES[ids][None], torch.ones(1, len(ids), dtype=torch.bool)


def check_count_by_sight(expect):
    """stage_count_by_sight: the violin seen across columns 0 and 1 is one performer while the
    frame readout counts three on stage, two (both violins) when it counts four; the rule off, one."""
    for by_sight, counted, want in ((True, 3, 3), (True, 4, 4), (False, 4, 3)):
        facts = dict(stage(), performer_count=torch.full((1, T), counted / PERFORMER_COUNT_SCALE))
        rules = StageRules(QStarConfig(d_model=8, stage_count_by_sight=by_sight))
        counts = answer(rules, StageRules.RULES, "the violin", facts=facts)[3]
        expect(f"performers, sight counting {counted} (rule {'on' if by_sight else 'off'})", COUNT_WORDS[int(counts.argmax())], COUNT_WORDS[want])


def answer(rules, rule, sentence, heard_off_stage=False, facts=None, stereo=None):
    """One rule's scores alone (its gain 1, every other 0; "heard", "in view": heard_count's, sound_in_view's) on `facts` (default: stage()):
    instrument (C), side (3), yes − no, counts."""
    facts = stage(heard_off_stage) if facts is None else facts
    with torch.no_grad():
        for layer in rules.gain_layers():
            layer.weight.zero_()
            layer.bias.zero_()
        added = {"heard": rules.heard_gain, "in view": rules.view_gain}
        (added[rule] if rule in added else rules.gain).bias[0 if rule in added else rule] = 1.0
        coded, mask = words(sentence)
        instrument, side, yes_no, counts = rules(coded, mask, torch.zeros(1, 8), facts, torch.ones(1, T, dtype=torch.bool), stereo)
    return instrument[0], side[0], float(yes_no[0, 0] - yes_no[0, 1]), counts[0]


def main():
    rules = StageRules(QStarConfig(d_model=8))
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append(f"{what}: got {got}, want {want}")

    def instrument_of(rule, sentence):
        scores = answer(rules, rule, sentence)[0]
        return INSTRUMENTS[int(scores.argmax())] if scores.max() > 0 else None

    def side_of(rule, sentence):
        scores = answer(rules, rule, sentence)[1]
        return ("left", "middle", "right")[int(scores.argmax())] if scores.max() > 0 else None

    def yes_no(rule, sentence):
        return {1.0: "yes", -1.0: "no", 0.0: None}[answer(rules, rule, sentence)[2] / 2]

    expect("first to come in", instrument_of(0, "the first instrument"), "flute")
    expect("second to come in", instrument_of(0, "the second instrument"), "violin")
    expect("where the last sounding one is", side_of(1, "the last instrument"), "left")
    expect("where the loudest is", side_of(1, "the loudest instrument"), "left")
    expect("where the lowest is", side_of(1, "the lowest instrument"), "left")
    expect("left louder than middle", yes_no(2, "is the instrument on the left louder than the instrument on the middle"), "yes")
    expect("middle louder than left", yes_no(2, "is the instrument on the middle louder than the instrument on the left"), "no")
    expect("middle more rhythmic than left", yes_no(3, "is the instrument on the middle louder than the instrument on the left"), "yes")
    expect("first sound from the middle", yes_no(4, "is the first instrument on the middle"), "yes")
    expect("first sound from the left", yes_no(4, "is the first instrument on the left"), "no")
    expect("right of the violin", instrument_of(5, "the instrument on the right of the violin"), "flute")
    expect("left of the cello", instrument_of(5, "the instrument on the left of the cello"), "flute")
    expect("right of the first sounding", instrument_of(5, "the right instrument of the first instrument"), "cello")
    expect("after the flute", instrument_of(6, "after the flute"), "violin")
    expect("before the violin", instrument_of(6, "before the violin"), "flute")
    expect("before the flute", instrument_of(6, "before the flute"), None)
    expect("violin louder than flute", yes_no(7, "is the violin louder than the flute"), "yes")
    expect("flute more rhythmic than violin", yes_no(8, "is the flute louder than the violin"), "yes")
    expect("violin longer than flute", yes_no(9, "is the violin louder than the flute"), "no")
    expect("at the same time as the violin", instrument_of(10, "the violin"), "flute")
    for k, want in enumerate((3, 2, 1, 3, 2, 1, 1, 2)):  # performers, sounding, silent, classes seen, sounding, violins, sounding violins, heard
        counts = answer(rules, StageRules.RULES + k, "the violin")[3]
        expect(f"count {k}", COUNT_WORDS[int(counts.argmax())] if counts.max() > 0 else None, COUNT_WORDS[want])
    # The instruments heard (heard_count): the two sounding performers, and the piano heard off stage.
    heard = StageRules(QStarConfig(d_model=8, heard_count=True))
    for off_stage, want in ((False, 2), (True, 3)):
        counts = answer(heard, "heard", "the violin", off_stage)[3]
        expect(f"instruments heard (piano off stage: {off_stage})", COUNT_WORDS[int(counts.argmax())] if counts.max() > 0 else None, COUNT_WORDS[want])
    check_lookalikes(expect)
    check_stereo(expect)
    check_onset_rates(expect)
    check_sound_in_view(expect)
    check_count_by_sight(expect)
    for failure in failures:
        print(failure)
    print(f"check_stage_rules: {len(failures)} of the checks failed" if failures else "check_stage_rules: every rule answers as a musician would")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
