"""QSTar: query-guided spatial-temporal-frequency interaction for music AVQA (arXiv 2601.19821).

One readable file, nanoGPT style. The question shapes the features from start to end:

  QGMC  query-guided multimodal correlation: self-attention per modality, question words attend
        to the visual and audio streams, and the query-guided context flows back into both.
  STI   spatial-temporal interaction: query-guided audio attends over each segment's patches
        (where it sounds); softmax over segments of visual·audio (when it sounds).
  TFI   temporal-frequency interaction: AST tokens pooled over time, frequency weights from the
        question, weighted AST features fused with the audio stream by a convolution (which timbre).
  QCR   query context reasoning: attribute prompts (category, duration, location, temporal,
        loudness) with the sentence embedding, self-attention, then cross-attention refines both
        streams.

Each module can be switched off (the paper's ablations); `late_fusion=True` gives the baseline
that multiplies the question in only at the end. Besides the 42 logits the model returns the
attention maps a dashboard shows: frequency (B, F), spatial (B, T, P), temporal (B, T).

Also here: the small frozen encoders of the `tiny` profile and its question encoder.
"""

import math
from dataclasses import dataclass, asdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The frame readout's last output is the number of performers on stage ÷ this (scene_truth.py).
PERFORMER_COUNT_SCALE = 5.0

ATTRIBUTES = ("category", "duration", "location", "temporal", "loudness")


@dataclass
class QStarConfig:
    d_model: int = 512
    heads: int = 8
    dropout: float = 0.1
    frame_dim: int = 768  # per-segment frame embedding
    patch_dim: int = 1024  # per-patch visual token
    audio_dim: int = 128  # per-segment audio clip embedding (VGGish)
    ast_dim: int = 768  # AST time-frequency token
    word_dim: int = 512  # question word token and sentence embedding
    answers: int = 42
    qgmc: bool = True
    sti: bool = True
    tfi: bool = True
    qcr: bool = True
    late_fusion: bool = False
    # Not in the paper: the classifier also reads each stream's mean and max over the window,
    # gated by the question (tanh(sentence) ⊙ summary), besides the temporally attended pool.
    window_summary: bool = False
    # Not in the paper: each noun phrase of the question reads its own class's evidence (ClassSlots);
    # needs a question encoder that emits word codes (the tiny one, with codes).
    class_slots: bool = False
    # With class_slots, not in the paper: each class scores itself as the answer (ClassAnswers);
    # each stage column is a performer token that the question reasons over (Performers).
    class_answers: bool = False
    performers: bool = False
    # Not in the paper: the facts the tiny encoders were pretrained to report, read from their
    # features by fixed linear maps (train.py readouts) and appended to the streams (Concepts).
    # The AST readout reads all `ast_bands` tokens at once, so the head then needs exactly that many.
    concepts: bool = False
    concept_classes: int = 22
    # With concepts and class_slots, not in the paper: those facts per class also join ClassSlots'
    # per-class channels (class_facts); with performers too, each performer token gets its column's
    # facts (when it comes in, how loud, how high, how busy) ranked against the other performers'
    # (stage_facts). performer_facts implies class_facts.
    class_facts: bool = False
    performer_facts: bool = False
    # With performer_facts, not in the paper: words that ask for a rank ("first", "loudest",
    # "second"…) carry fixed codes, and each performer whose stage facts hold that rank is
    # scored up as the answer, by a gain the question sets (RankPicker).
    rank_words: bool = False
    # With concepts and class_slots, not in the paper: the stage questions' relations computed by
    # rule on Concepts' readouts, thresholded (StageRules); the question only sets how much each
    # rule's answer counts. Codes the rank words as rank_words does.
    stage_rules: bool = False
    # With stage_rules, not in the paper: a ninth count, the instruments heard — the sounding
    # performers on stage plus each class heard off stage (off_stage_classes).
    heard_count: bool = False
    # With stage_rules, not in the paper: a rule for whether every sound comes from the stage —
    # "no" when some class is heard off stage (session 19).
    sound_in_view: bool = False
    # With stage_rules, not in the paper: the class indices of the look-alike pairs (flute and
    # clarinet, acoustic guitar and ukulele), which sight alone confuses; a stage column read as
    # one of a pair takes the one the audio hears, or, with both heard, the one whose sound keeps
    # time with that column's playing (lookalikes_by_sound); a column where sight's two
    # probabilities for a pair add up past one half holds a performer. Empty: sight alone.
    lookalike_pairs: tuple = ()
    # With stage_rules, not in the paper: per class (and last, the voiceover) the mean share of
    # each of the 64 mel bands in the seconds it plays alone (train.py stereo-templates). With
    # them the head takes a ninth input, `stereo` (B, T, 2, 64: each second's mel-band power of
    # the left and right channels), and each performer is heard where it stands: its power is its
    # class's template panned to its column (stereo_power), which gives its loudness and, of two
    # performers of one class, which one sounds; a mono source (left = right) keeps the audio
    # map's facts. Empty: no stereo input.
    stereo_templates: tuple = ()
    # With stage_rules, not in the paper: the audio features end with TinyOnsets' per-second facts
    # (per class log(1 + onsets), then the logit of sounding; the tiny profile since session 17),
    # and the rules compare how rhythmic parts are by its onsets per second where it hears the part
    # (onset_rates), not by the linear readout's log count where sighted hearing hears it: the
    # count and the seconds it is divided by come from one ear (session 19).
    onset_rates: bool = False
    # With stage_rules, not in the paper: two neighbouring stage columns read as one class are one
    # performer seen across both unless the frame readout counts more performers than the stage
    # has after merging them; then the merges it does not allow are undone, the strongest-seen
    # columns first (stage_count_by_sight; session 20).
    stage_count_by_sight: bool = False
    # With concepts, not in the paper: whether each class sounds, per second, is read by a small
    # MLP of this width from the audio features and what sight says of that class (seen, and
    # playing where seen), not by the linear audio map (train.py readouts --heard-hidden).
    heard_hidden: int = 0
    ast_bands: int = 8
    # The 42-answer indices of the instrument classes (class order) and of left, middle, right:
    # where ClassAnswers and Performers add their scores.
    instrument_answers: tuple = ()
    position_answers: tuple = ()
    yes_no_answers: tuple = ()
    count_answers: tuple = ()  # zero … ten

    def to_dict(self):
        return asdict(self)


def masked_mean(x, mask, dim):
    """Mean of x over `dim` where mask (broadcastable, True = valid) holds."""
    mask = mask.to(x.dtype)
    return (x * mask).sum(dim) / mask.sum(dim).clamp(min=1.0)


def window_position(segment_mask, dtype):
    """Each second's place in the window, 0 … 1 (B, T); from the mask, so T stays dynamic on export."""
    counted = segment_mask.to(dtype)
    return (counted.cumsum(1) - 1) / (counted.sum(1, keepdim=True) - 1).clamp(min=1)


def masked_softmax(scores, mask):
    return torch.softmax(scores.masked_fill(~mask, -1e4), dim=-1)


class CrossAttention(nn.Module):
    """Pre-norm residual multi-head attention: queries attend to keys/values (True = valid key)."""

    def __init__(self, d, heads, dropout):
        super().__init__()
        self.norm_q = nn.LayerNorm(d)
        self.norm_kv = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)

    def forward(self, queries, keys, key_mask=None):
        kv = self.norm_kv(keys)
        out, _ = self.attn(
            self.norm_q(queries), kv, kv, key_padding_mask=None if key_mask is None else ~key_mask, need_weights=False
        )
        return queries + out


class QGMC(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, p = c.d_model, c.heads, c.dropout
        self.self_visual, self.self_audio = CrossAttention(d, h, p), CrossAttention(d, h, p)
        self.words_to_visual, self.words_to_audio = CrossAttention(d, h, p), CrossAttention(d, h, p)
        self.visual_from_context, self.audio_from_context = CrossAttention(d, h, p), CrossAttention(d, h, p)

    def forward(self, visual, audio, words, segment_mask, word_mask):
        visual = self.self_visual(visual, visual, segment_mask)
        audio = self.self_audio(audio, audio, segment_mask)
        # Each question word gathers what it refers to in either stream...
        context = self.words_to_visual(words, visual, segment_mask) + self.words_to_audio(words, audio, segment_mask)
        # ...and that query-guided context is propagated back into both streams.
        visual = self.visual_from_context(visual, context, word_mask)
        audio = self.audio_from_context(audio, context, word_mask)
        return visual, audio


class STI(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c.d_model
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.norm = nn.LayerNorm(d)

    def keys_values(self, patches):
        """What the patches offer the audio's look, whatever the question: computed once per window."""
        return self.key(patches), self.value(patches)

    def forward(self, visual, audio, patches, segment_mask, keys_values=None):
        d = visual.shape[-1]
        keys, values = keys_values if keys_values is not None else self.keys_values(patches)
        # Where it sounds: each segment's audio looks over that segment's patches.
        scores = torch.einsum("btd,btpd->btp", self.query(audio), keys) / math.sqrt(d)
        spatial = torch.softmax(scores, dim=-1)
        sounding_region = torch.einsum("btp,btpd->btd", spatial, values)
        visual = self.norm(visual + sounding_region)
        # When it sounds: segments where sight and sound agree weigh more.
        temporal = masked_softmax((visual * audio).sum(-1) / math.sqrt(d), segment_mask)
        return visual, spatial, temporal


class TFI(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c.d_model
        self.query = nn.Linear(d, d)
        self.fuse = nn.Conv1d(2 * d, d, kernel_size=3, padding=1)
        self.norm = nn.LayerNorm(d)

    def forward(self, audio, ast, sentence, segment_mask):
        d = audio.shape[-1]
        bands = masked_mean(ast, segment_mask[:, :, None, None], dim=1)  # pooled over time: (B, F, d)
        frequency = torch.softmax(torch.einsum("bfd,bd->bf", bands, self.query(sentence)) / math.sqrt(d), dim=-1)
        timbre = torch.einsum("btfd,bf->btd", ast, frequency)  # which timbre, per segment
        both = torch.cat([audio, timbre], dim=-1) * segment_mask[:, :, None].to(audio.dtype)
        fused = self.fuse(both.transpose(1, 2)).transpose(1, 2)
        return self.norm(audio + fused), frequency


class QCR(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, h, p = c.d_model, c.heads, c.dropout
        # One learned prompt per attribute keyword, in ATTRIBUTES order.
        self.prompts = nn.Parameter(torch.randn(len(ATTRIBUTES), d) * 0.02)
        self.reason = CrossAttention(d, h, p)
        self.refine_visual, self.refine_audio = CrossAttention(d, h, p), CrossAttention(d, h, p)

    def forward(self, visual, audio, sentence):
        context = torch.cat([sentence[:, None, :], self.prompts.expand(sentence.shape[0], -1, -1)], dim=1)
        context = self.reason(context, context)
        return self.refine_visual(visual, context), self.refine_audio(audio, context)


# Word codes: the first WORD_CODES dims of each word token the tiny question encoder emits say
# what the word names — an instrument class (one-hot, in the encoders' class order), a side of the
# stage (left, middle, right) — and whether it starts a noun phrase (an instrument's name or the
# word "instrument"). A pretrained text encoder's embeddings carry such meaning; a question
# encoder trained from scratch on ~30k questions does not learn it (measured: comparisons stay at
# chance even on perfect inputs), so the tiny one is given it, fixed.
INSTRUMENT_CLASSES = 22
SIDES = {"left": 0, "leftest": 0, "middle": 1, "right": 2, "rightest": 2}
SIDE_COUNT = 3  # left, middle, right
WORD_CODES = INSTRUMENT_CLASSES + SIDE_COUNT + 1
CLASS_FACTS = 4  # Concepts per class: heard, and where heard its loudness, onsets, pitch
STAGE_FACTS = 12  # stage_facts per performer
# Rank words (RankPicker), coded after WORD_CODES: which performer the question picks by rank.
RANK_WORDS = ["first", "last", "loudest", "lowest", "second", "third", "fourth", "fifth"]
# With stage_rules, order words are coded after the rank words (StageRules' before / after rule).
ORDER_WORDS = ["before", "after"]
COUNT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]  # StageRules' counts


def word_codes(vocabulary, instruments, rank_words=False, order_words=False):
    """(vocabulary, WORD_CODES [+ len(RANK_WORDS) [+ len(ORDER_WORDS)]]): each word's fixed code."""
    assert len(instruments) == INSTRUMENT_CLASSES, "word codes need the encoders' 22 classes"
    ranks = WORD_CODES + len(RANK_WORDS)
    codes = torch.zeros(len(vocabulary), ranks + len(ORDER_WORDS) if order_words else ranks if rank_words else WORD_CODES)
    for i, word in enumerate(vocabulary):
        if word in instruments:
            codes[i, instruments.index(word)] = 1
        if word in SIDES:
            codes[i, INSTRUMENT_CLASSES + SIDES[word]] = 1
        codes[i, WORD_CODES - 1] = float(word in instruments or word == "instrument")
        if (rank_words or order_words) and word in RANK_WORDS:
            codes[i, WORD_CODES + RANK_WORDS.index(word)] = 1
        if order_words and word in ORDER_WORDS:
            codes[i, ranks + ORDER_WORDS.index(word)] = 1
    return codes


class ClassSlots(nn.Module):
    """Not in the paper. "Is the violin on the left louder than the cello on the right?" names two
    things and compares them; pooled streams mix the two, and on perfect inputs the paper's head
    answers comparisons at chance. Each noun phrase of the question (from the word codes: the
    k-th phrase holds the instrument and side words after its k-th start) is a slot; a slot finds
    its thing among the patches (by class, or by side for "the instrument on the left"), reads
    that class's channels of the audio (the streams are mapped to per-class channels, so the
    binding is exact and only what each class sounds like is learned), and what is seen there;
    the classifier gets each slot's evidence pooled over the window (mean, peak, and when it
    peaks) and the difference of the two."""

    def __init__(self, c, slots=2, channels=16):
        super().__init__()
        d, self.slots, self.channels = c.d_model, slots, channels
        # With class_facts, Concepts' facts per class are channels of their own (CLASS_FACTS).
        self.heard_channels = channels + (CLASS_FACTS if c.class_facts or c.performer_facts else 0)
        # With class_answers: a token per class scores that class as the answer (below).
        self.answers = ClassAnswers(c, slots, self.heard_channels) if c.class_answers else None
        self.heard = nn.Linear(2 * d, INSTRUMENT_CLASSES * channels)  # per class, from audio and AST
        self.presence = nn.Linear(d, INSTRUMENT_CLASSES)  # which class stands in a patch
        self.side = nn.Linear(d, SIDE_COUNT)  # which side of the stage a patch is on
        self.look = nn.Linear(d, channels)
        self.size = 3 * (self.heard_channels + channels) * (slots + 1)

    def read(self, patches, audio, ast, facts=None):
        """Per patch: which class stands there and which side it is on (B, T, P, classes / sides);
        per class: its channels of the sound (B, T, classes, channels), Concepts' facts appended."""
        per_class = self.heard(torch.cat([audio, ast.mean(2)], -1))
        per_class = per_class.reshape(per_class.shape[0], per_class.shape[1], INSTRUMENT_CLASSES, self.channels)
        if self.heard_channels > self.channels:
            per_class = torch.cat([per_class, facts["per_class"]], -1)
        return self.presence(patches), self.side(patches), per_class

    def forward(self, codes, word_mask, patches, presence, side, per_class, segment_mask, sentence):
        n = INSTRUMENT_CLASSES
        valid_words = word_mask.to(codes.dtype)
        phrase = torch.cumsum(codes[..., -1] * valid_words, 1)  # (B, L): 1 for the first phrase…
        member = torch.stack([(phrase == k + 1).to(codes.dtype) * valid_words for k in range(self.slots)], 1)
        named = torch.einsum("bkl,blc->bkc", member, codes[..., :n]).clamp(max=1)  # (B, K, classes)
        sides = torch.einsum("bkl,blr->bkr", member, codes[..., n:-1]).clamp(max=1)
        score = torch.einsum("bkc,btpc->bktp", named, presence) + torch.einsum("bkr,btpr->bktp", sides, side)
        where = torch.softmax(score, -1)  # (B, K, T, P)
        # The class a slot means: the one it names, else the one standing where it points.
        standing = torch.einsum("bktp,btpc->bktc", where, torch.softmax(presence, -1))
        names = named.sum(-1, keepdim=True)[:, :, None]
        key = names * named[:, :, None] + (1 - names) * standing  # (B, K, T, classes)
        heard = torch.einsum("bktc,btcm->bktm", key, per_class)
        seen = self.look(torch.einsum("bktp,btpd->bktd", where, patches))
        evidence = torch.cat([heard, seen], -1)  # (B, K, T, heard + seen channels)
        valid = segment_mask[:, None, :, None]
        position = window_position(segment_mask, evidence.dtype)
        masked = evidence.masked_fill(~valid, -1e4)
        when = torch.einsum("bktm,bt->bkm", torch.softmax(masked, 2), position)
        pooled = torch.cat([masked_mean(evidence, valid, 2), masked.amax(2), when], -1)  # (B, K, 3 × evidence)
        features = torch.cat([pooled.flatten(1), pooled[:, 0] - pooled[:, 1]], -1)
        if self.answers is None:
            return features, None
        scores = self.answers(per_class, presence, side, heard, named, segment_mask, position, sentence)
        return features, scores


class ClassAnswers(nn.Module):
    """Not in the paper. Questions answered by an instrument ("What is the first instrument that
    comes in?", "What is the instrument on the left of the violin?") pick one of 22 classes; a
    classifier over a pooled vector must learn each class apart. Here every class is a token of
    its own evidence — its audio channels over the window (mean, peak, when), where it stands
    (seen, side of the stage), how it sounds together with each slot, whether a slot names it —
    plus the sentence; one attention layer lets the classes compare (who came first), and a shared
    scorer adds each class's score to that instrument's answer logit."""

    def __init__(self, c, slots, channels):
        super().__init__()
        d = c.d_model
        self.tokens = nn.Linear(3 * channels + 1 + SIDE_COUNT + slots * channels + slots, d)
        self.sentence = nn.Linear(d, d)
        self.compare = nn.TransformerEncoderLayer(d, c.heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.score = nn.Linear(d, 1)

    def forward(self, per_class, presence, side, heard, named, segment_mask, position, sentence):
        valid = segment_mask[:, :, None, None]
        masked = per_class.masked_fill(~valid, -1e4)  # (B, T, classes, channels)
        when = torch.einsum("btcm,bt->bcm", torch.softmax(masked, 1), position)
        audio = torch.cat([masked_mean(per_class, valid, 1), masked.amax(1), when], -1)
        seen = masked_mean(torch.sigmoid(presence).amax(2), segment_mask[..., None], 1)[..., None]  # (B, classes, 1)
        where = torch.softmax(presence, 2)  # over patches, per class
        sides = masked_mean(torch.einsum("btpc,btpr->btcr", where, torch.softmax(side, -1)), valid, 1)
        together = torch.einsum("btcm,bktm->bckm", per_class, heard).flatten(2) / segment_mask.sum(1)[:, None, None].to(per_class.dtype)
        tokens = self.tokens(torch.cat([audio, seen, sides, together, named.transpose(1, 2)], -1))
        tokens = self.compare(tokens + self.sentence(sentence)[:, None])
        return self.score(tokens)[..., 0]  # (B, classes)


class Reasoning(nn.Module):
    """A pre-norm transformer layer over one sequence with padding (True = valid)."""

    def __init__(self, d, heads):
        super().__init__()
        self.attend = CrossAttention(d, heads, 0.0)
        self.norm = nn.LayerNorm(d)
        self.feed = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x, mask):
        x = self.attend(x, x, mask)
        return x + self.feed(self.norm(x))


def stage_relations(occupied, entry, sharpness=20.0):
    """Per stage column (B, P), soft facts that need the other columns: whether it is the leftmost
    or rightmost occupied one, how many performers stand left and right of it, how many came in
    before and after it (`entry`: first-onset position in the window). Attention between tokens can
    learn these only from many questions; computed, they make "the leftest instrument" or "the
    second instrument that comes in" a lookup."""
    empty = torch.log1p(-occupied.clamp(max=0.999))
    left_empty = torch.cumsum(empty, 1) - empty  # log of Π over columns left of it of (1 − occupied)
    right_empty = torch.flip(torch.cumsum(torch.flip(empty, [1]), 1), [1]) - empty
    left_count = torch.cumsum(occupied, 1) - occupied
    right_count = occupied.sum(1, keepdim=True) - occupied - left_count
    came_before = torch.sigmoid(sharpness * (entry[:, :, None] - entry[:, None, :]))  # (B, P, Q): Q first
    before = torch.einsum("bpq,bq->bp", came_before, occupied) - 0.5 * occupied
    after = occupied.sum(1, keepdim=True) - occupied - before
    relations = [occupied * torch.exp(left_empty), occupied * torch.exp(right_empty), left_count, right_count, before, after]
    return torch.stack(relations, -1)


def rank_counts(value, weight, sharpness):
    """Per column (B, P): how many others (weighted) have a higher `value`, and how many a lower."""
    higher = torch.sigmoid(sharpness * (value[:, None, :] - value[:, :, None]))  # (B, P, Q): Q above P
    above = torch.einsum("bpq,bq->bp", higher, weight) - 0.5 * weight  # itself sits at sigmoid(0)
    return above, weight.sum(1, keepdim=True) - weight - above


def stage_facts(column_seen, per_class, segment_mask):
    """Per stage column (B, P, STAGE_FACTS), read off Concepts alone: whether a performer stands
    there and sounds, when it comes in (window position; past the end if never), its loudness,
    pitch and onsets where it sounds, and how many sounding performers are louder / quieter,
    higher / lower, and came in before / after it. The column's class (the window mean of what
    is seen there) picks that class's facts. Rules on these same facts answer "where is the
    loudest", "the second that comes in" and "is the one on the left louder" 11–25 points better
    than the head (readout_rule.py); given to the head as token features, they raised audio
    comparatives but not those templates (README, session 8): the head does not learn to pick
    the rank a question's word asks for from the few hundred questions of each template."""
    valid = segment_mask[:, :, None].to(per_class.dtype)
    seen = masked_mean(column_seen, segment_mask[:, :, None, None], 1)  # (B, P, classes)
    occupied = seen.amax(-1)
    standing = seen / seen.sum(-1, keepdim=True).clamp(min=1e-3)
    facts = torch.einsum("bpc,btcf->btpf", standing, per_class) * valid[..., None]  # (B, T, P, CLASS_FACTS)
    heard = facts[..., 0].clamp(0.0, 0.999)
    sounds = occupied * heard.amax(1)
    where_heard = heard.sum(1).clamp(min=1e-3)
    loud, onsets, pitch = (facts[..., i].sum(1) / where_heard for i in (1, 2, 3))
    silent = torch.log1p(-heard)
    first = heard * torch.exp(torch.cumsum(silent, 1) - silent)
    entry = torch.einsum("btp,bt->bp", first, window_position(segment_mask, heard.dtype)) + 2.0 * (1 - first.sum(1))
    louder, quieter = rank_counts(loud, sounds, 10.0)  # loudness in 10 dB units: 4 dB apart is clear
    higher, lower = rank_counts(pitch, sounds, 10.0)  # pitch in octaves
    after, before = rank_counts(entry, sounds, 20.0)
    return torch.stack([occupied, sounds, entry, loud, onsets, pitch, louder, quieter, higher, lower, before, after], -1)


class RankPicker(nn.Module):
    """Not in the paper. "Where is the loudest instrument?", "What is the second instrument that
    comes in?": the performer asked for holds a rank among the sounding ones, which stage_facts
    counts (how many are louder, lower, came in before or after it). Given those counts as token
    features the head still answered these at 41–51 % (rules on the same facts: 61–68 %), so here
    the rank a word asks for is matched to the counts directly: a soft "holds that rank" per
    performer and rank word, weighed by the word's presence and a gain read from the sentence
    (so questions that merely contain "first" can turn it off), is added to each performer's
    answer score."""

    def __init__(self, c):
        super().__init__()
        self.gain = nn.Linear(c.d_model, len(RANK_WORDS))
        nn.init.zeros_(self.gain.weight)
        nn.init.constant_(self.gain.bias, 4.0)

    @staticmethod
    def holds(facts, sharpness=4.0):
        """(B, P, RANK_WORDS): whether each performer holds each rank (soft)."""
        sounds, louder, lower, before, after = facts[..., 1], facts[..., 6], facts[..., 9], facts[..., 10], facts[..., 11]
        none = lambda count: torch.sigmoid(sharpness * (0.5 - count))  # noqa: E731 — about zero of them
        exactly = lambda count, k: torch.sigmoid(sharpness * (0.5 - (count - k).abs()))  # noqa: E731
        ranks = [none(before), none(after), none(louder), none(lower)] + [exactly(before, k) for k in (1, 2, 3, 4)]
        return sounds[..., None] * torch.stack(ranks, -1)

    def forward(self, rank_codes, word_mask, sentence, facts):
        asked = (rank_codes * word_mask[..., None].to(rank_codes.dtype)).amax(1)  # (B, RANK_WORDS)
        return torch.einsum("br,bpr->bp", asked * self.gain(sentence), self.holds(facts))


def heard_facts(facts, valid):
    """Concepts' facts (B, T, N, CLASS_FACTS) of N classes or performers, thresholded: whether each
    sounds in each second (heard > 0.5; B, T, N), for how many seconds (B, N), and where it sounds
    the means of its other facts (B, N, CLASS_FACTS − 1; −100 when never heard, below any real
    value). Concepts scale those facts by P(heard); dividing it out gives them back."""
    heard = (facts[..., 0] > 0.5).to(facts.dtype) * valid[:, :, None]
    seconds = heard.sum(1)
    ever = (seconds > 0).to(facts.dtype)
    means = torch.einsum("btn,btnf->bnf", heard, facts[..., 1:] / facts[..., :1].clamp(min=1e-3))
    means = means / seconds.clamp(min=1)[..., None] * ever[..., None] - 100 * (1 - ever[..., None])
    return heard, seconds, means


def masked_correlation(x, y, valid):
    """Pearson correlation over the valid seconds: x (B, T, P), y (B, T, 1), valid (B, T, 1) → (B, P)."""
    n = valid.sum(1, keepdim=True).clamp(min=1)
    x = (x - (x * valid).sum(1, keepdim=True) / n) * valid
    y = (y - (y * valid).sum(1, keepdim=True) / n) * valid
    return (x * y).sum(1) / ((x * x).sum(1) * (y * y).sum(1)).sqrt().clamp(min=1e-6)


def lookalikes_by_sound(one_hot, pairs, sounds, playing, valid):
    """Not in the paper. Sight reads a look-alike pair (flute / clarinet, acoustic guitar /
    ukulele) at chance; the ear tells them apart. one_hot (B, P, classes): each column's class by
    sight; sounds (B, T, classes): P(heard) by the audio map alone (sighted hearing would echo
    sight's confusion); playing (B, T, P, classes): P(played there). For each pair (a, b), the
    columns read as either take a when a is heard longer than b (and either for more than half a
    second); when both are heard for over a second and exactly two columns hold the pair, the
    column whose playing correlates more with a's sound than with b's takes a, the other b — a
    coin flip with the tiny frame encoder, whose "playing" readout is at chance (README, session
    15), that at least gives each of the pair one column. With the standing rule of
    thresholded_performers, held-out stages read entirely right: 113 → 147 of 200."""
    dtype, p = one_hot.dtype, one_hot.shape[1]
    valid = valid[..., None]
    tie_break = 1e-4 * torch.arange(p, dtype=dtype, device=one_hot.device)  # equal timing: the left one takes a
    for a, b in pairs:
        in_group = one_hot[..., a] + one_hot[..., b]
        heard_a, heard_b = (sounds[..., a : a + 1] * valid).sum((1, 2)), (sounds[..., b : b + 1] * valid).sum((1, 2))
        by_sound = (heard_a > heard_b).to(dtype)[:, None]
        play = playing[..., a] + playing[..., b]
        lead = masked_correlation(play, sounds[..., a : a + 1], valid) - masked_correlation(play, sounds[..., b : b + 1], valid) - tie_break
        other = (lead * in_group).sum(1, keepdim=True) - lead * in_group  # the other column's lead, where two hold the pair
        by_timing = (lead >= other).to(dtype)
        both_heard = (in_group.sum(1, keepdim=True) == 2) & (torch.minimum(heard_a, heard_b) > 1.0)[:, None]
        one_heard = (torch.maximum(heard_a, heard_b) > 0.5)[:, None]
        takes_a = in_group * torch.where(both_heard, by_timing, torch.where(one_heard, by_sound, one_hot[..., a]))
        unit_a, unit_b = torch.eye(one_hot.shape[-1], dtype=dtype, device=one_hot.device)[[a, b]]
        one_hot = one_hot * (1 - unit_a - unit_b) + takes_a[..., None] * unit_a + (in_group - takes_a)[..., None] * unit_b
    return one_hot


def stereo_power(stereo, templates, one_hot, occupied, off_stage, valid, iterations=50):
    """Not in the paper. Each performer's power per second from the stereo mix, where the mono
    features merge performers (the mix pans each one to where it stands, as a stage heard from
    the audience does). stereo (B, T, 2, BANDS) mel-band power per second and channel; templates
    (classes + 1, BANDS), the last the voiceover's; one_hot (B, P, classes) and occupied (B, P):
    the stage as read; off_stage (B, classes): classes heard that no column holds (mixed to the
    centre); valid (B, T). Each second's two channels are explained as a non-negative sum of the
    templates, each panned by constant power to its column's centre (multiplicative NNLS updates,
    a fixed count so it exports). Returns (B, T, P) each column's power (the window's mean power
    per second is 1), (B,) whether the window is stereo at all (a mono source, left = right,
    says nothing of where a sound stands), and (B,) the share of the window's power the sum
    leaves unexplained (how well this stage fits what is heard)."""
    dtype, p = stereo.dtype, one_hot.shape[1]
    angle = (torch.arange(p, dtype=dtype, device=stereo.device) + 0.5) / p * (math.pi / 2)
    pan = torch.stack([torch.cos(angle) ** 2, torch.sin(angle) ** 2], -1)  # (P, 2) power gains
    classes = templates[:-1]
    on_stage = torch.einsum("bpc,ck->bpk", one_hot, classes)[:, :, None, :] * pan[None, :, :, None] * occupied[..., None, None]
    centre = torch.cat([off_stage[..., None] * classes, torch.ones_like(off_stage[:, :1, None]) * templates[-1:]], 1)
    basis = torch.cat([on_stage, 0.5 * centre[:, :, None, :].expand(-1, -1, 2, -1)], 1).flatten(2)  # (B, N, 2·BANDS)
    power = stereo.flatten(2) * valid[..., None]
    power = power / (power.sum((1, 2), keepdim=True) / valid.sum(1)[:, None, None].clamp(min=1)).clamp(min=1e-12)
    along = torch.einsum("bnk,btk->btn", basis, power)
    gram = torch.einsum("bnk,bmk->bnm", basis, basis)
    h = torch.ones_like(along) * along.mean(-1, keepdim=True).clamp(min=1e-6)
    for _ in range(iterations):
        h = h * along / (torch.einsum("bnm,btm->btn", gram, h) + 1e-9)
    left, right = stereo[:, :, 0] * valid[..., None], stereo[:, :, 1] * valid[..., None]
    is_stereo = (left - right).abs().sum((1, 2)) > 1e-3 * (left + right).sum((1, 2)).clamp(min=1e-12)
    unexplained = ((power - torch.einsum("btn,bnk->btk", h, basis)) ** 2).sum((1, 2)) / (power**2).sum((1, 2)).clamp(min=1e-12)
    return h[..., :p] * valid[..., None], is_stereo, unexplained


def lookalikes_by_pan(stereo, templates, one_hot, occupied, off_stage, pairs, valid):
    """Not in the paper. Where one of each of a look-alike pair stands on stage (sight cannot tell
    which is which, and the "playing" timing of lookalikes_by_sound is a coin flip), the stage
    whose panned templates explain the stereo mix better: the two swapped, or as they are. Returns
    the stage chosen with stereo_power's power and is_stereo for it (each pair compared with the
    stage as the pairs before it left it)."""
    power, is_stereo, kept = stereo_power(stereo, templates, one_hot, occupied, off_stage, valid)
    for a, b in pairs:
        one_each = (one_hot[..., a].sum(1) == 1) & (one_hot[..., b].sum(1) == 1)
        unit_a, unit_b = torch.eye(one_hot.shape[-1], dtype=one_hot.dtype, device=one_hot.device)[[a, b]]
        swapped = one_hot * (1 - unit_a - unit_b) + one_hot[..., a : a + 1] * unit_b + one_hot[..., b : b + 1] * unit_a
        swapped_power, _, unexplained = stereo_power(stereo, templates, swapped, occupied, off_stage, valid)
        swap = one_each & is_stereo & (unexplained < kept)
        one_hot = torch.where(swap[:, None, None], swapped, one_hot)
        power = torch.where(swap[:, None, None], swapped_power, power)
        kept = torch.where(swap, unexplained, kept)
    return one_hot, power, is_stereo


def own_share(power, one_hot):
    """(B, T, P): each column's share of the power of the columns holding its class (1 alone)."""
    same = torch.einsum("bpc,bqc->bpq", one_hot, one_hot)
    return power / torch.einsum("bpq,btq->btp", same, power).clamp(min=1e-9)


STEREO_SHARE = 0.2  # of its class's power on stage, the least a column must hold to sound


def unmerged_by_count(merged, best, occupied, sight_count):
    """(B, P): the merged columns (merged, 1 where a column goes as the right half of its left
    neighbour's performer) that stay merged, given how many performers sight counts (B,): as many
    merges are undone as the stage lacks performers, those of the strongest-seen columns first."""
    undo = (sight_count - (occupied.sum(1) - merged.sum(1))).clamp(min=0)
    strength = best * merged
    stronger = count_where(strength[:, None, :] > strength[:, :, None], merged)  # merged columns seen more surely
    return merged * (stronger >= undo[:, None]).to(merged.dtype)


def thresholded_performers(column_seen, per_class, segment_mask, lookalikes=None, stereo=None, sight_count=None):
    """The stage as readout_rule.py reads it, hard (Concepts are fixed maps: nothing to learn
    through a threshold). A column holds a performer where some class is seen with window-mean
    probability > 0.5, of its most likely class; that class's audio facts say per second whether it
    sounds (> 0.5), and where it sounds its loudness, onsets and pitch. Returns per column (B, P):
    occupied, sounds, class one-hot (B, P, classes), entry second (T when never), the means of
    loudness, onsets and pitch where heard (−100 when never heard, below any real value), and
    whether it sounds in each second (B, T, P). sight_count (B,): the performers the frame
    readout counts (unmerged_by_count). lookalikes: (pairs, sounds, playing) to tell
    look-alike classes apart by ear (lookalikes_by_sound). stereo: (stereo, templates) to hear
    each performer where it stands (stereo_power): with lookalikes, one of each of a pair on
    stage takes the columns that explain the mix best (lookalikes_by_pan); of two columns of one
    class, one sounds in a second only with STEREO_SHARE of the class's power there (the mono
    facts hear the class, not which of them plays); loudness is the column's own power where
    heard; a mono window keeps the facts as they are."""
    valid = segment_mask.to(per_class.dtype)
    seen = masked_mean(column_seen, segment_mask[:, :, None, None], 1)  # (B, P, classes)
    best = seen.amax(-1)
    standing = best
    if lookalikes is not None:  # sight splits a look-alike between the pair: either of them stands there
        standing = torch.stack([best] + [seen[..., a] + seen[..., b] for a, b in lookalikes[0]], -1).amax(-1)
    occupied = (standing > 0.5).to(seen.dtype)
    one_hot = (seen >= best[..., None]).to(seen.dtype) * occupied[..., None]
    if lookalikes is not None:
        one_hot = lookalikes_by_sound(one_hot, *lookalikes, valid)
    # One performer seen across two columns: the right one of two neighbours of one class goes
    # (unless sight counts them as two: unmerged_by_count).
    same_as_left = (one_hot[:, 1:] * one_hot[:, :-1]).sum(-1)
    merged = torch.cat([torch.zeros_like(same_as_left[:, :1]), same_as_left], 1)
    if sight_count is not None:
        merged = unmerged_by_count(merged, best, occupied, sight_count)
    occupied = occupied * (1 - merged)
    one_hot = one_hot * occupied[..., None]
    facts = torch.einsum("bpc,btcf->btpf", one_hot, per_class)  # (B, T, P, CLASS_FACTS)
    if stereo is not None:
        heard_classes = (heard_facts(per_class, valid)[1] > 0).to(seen.dtype)
        # Wider than StageRules.off_stage_classes on purpose: the power fit must place every
        # heard class's sound, one second of it or a look-alike's too; the rules ask whether a
        # listener would say an instrument is off stage, and so want two seconds and no look-alike.
        off_stage = heard_classes * (1 - one_hot.amax(1))
        if lookalikes is not None:
            one_hot, power, is_stereo = lookalikes_by_pan(stereo[0], stereo[1], one_hot, occupied, off_stage, lookalikes[0], valid)
            facts = torch.einsum("bpc,btcf->btpf", one_hot, per_class)
        else:
            power, is_stereo, _ = stereo_power(stereo[0], stereo[1], one_hot, occupied, off_stage, valid)
        keeps = torch.where(is_stereo[:, None, None], (own_share(power, one_hot) >= STEREO_SHARE).to(seen.dtype), torch.ones_like(power))
        facts = facts * keeps[..., None]
    heard, seconds, means = heard_facts(facts, valid)
    if stereo is not None:
        by_ear = 10 * torch.log10(((power * heard).sum(1) / seconds.clamp(min=1)).clamp(min=1e-10))
        by_ear = torch.where(seconds > 0, by_ear, torch.full_like(by_ear, -100.0))
        means = torch.cat([torch.where(is_stereo[:, None], by_ear, means[..., 0])[..., None], means[..., 1:]], -1)
    ever = (seconds > 0).to(seen.dtype)
    first = heard * (torch.cumsum(heard, 1) == 1).to(seen.dtype)
    t = torch.cumsum(valid, 1) - 1
    entry = torch.einsum("btp,bt->bp", first, t) + valid.sum(1, keepdim=True) * (1 - ever)
    return occupied, occupied * ever, one_hot, entry, means[..., 0], means[..., 1], means[..., 2], heard * occupied[:, None]


def count_where(condition, weight):
    """Per column (B, P): the weight of the other columns Q where condition (B, P, Q) holds."""
    return torch.einsum("bpq,bq->bp", condition.to(weight.dtype), weight)


def column_regions(columns, like):
    """(P, 3) one-hot: the third of the stage each column's centre is in (scene_truth.region_of)."""
    dtype = like.dtype
    x = (torch.arange(columns, dtype=dtype, device=like.device) + 0.5) / columns
    left, right = (x < 0.4).to(dtype), (x > 0.6).to(dtype)
    return torch.stack([left, 1 - left - right, right], -1)


class StageRules(nn.Module):
    """Not in the paper. Soft stage facts given to the head as features (stage_facts, RankPicker)
    did not move the stage questions (41–51 %) while rules on the same readouts answer them at
    61–68 % (readout_rule.py): soft "sounds" of 0.3–0.5 blur every count. Here the rules run
    inside the head on thresholded facts (thresholded_performers), each adding to the answers it
    gives: the performer holding the rank a word asks for (first, last, loudest, lowest, second …
    fifth; ties in entry broken left to right) scores its class and its third of the stage; "is the
    one on the <LR> louder / more rhythmic than the one on the <LR>" compares the single performers
    of the two named thirds; "is the first sound coming from the <LR> instrument" matches the picked
    performer's third; "the instrument on the <LR> of the violin / of the first sounding one" is
    the nearest performer on that side of the named or picked one; "which instrument sounds
    before / after the violin" the one entering just before / after it. The sentence sets a gain
    per rule (it learns which templates a rule answers); where no performer fits, a rule adds
    nothing and the classifier answers alone."""

    # instrument pick, side pick; thirds compared: louder, more rhythmic; side of the pick matches,
    # neighbour, before / after; classes compared: louder, more rhythmic, longer; at the same time;
    # then one gain per count (COUNTS)
    RULES = 11
    COUNTS = 8  # performers, sounding, silent, classes seen, classes sounding, of the named class, sounding of it, classes heard
    # (heard_count and sound_in_view, added to a trained head, have gains of their own)

    def __init__(self, c):
        super().__init__()
        self.lookalike_pairs = c.lookalike_pairs
        self.onset_rates = c.onset_rates
        self.stage_count_by_sight = c.stage_count_by_sight
        if c.stereo_templates:
            self.register_buffer("stereo_templates", torch.tensor(c.stereo_templates, dtype=torch.float32), persistent=False)  # in the config
        else:
            self.stereo_templates = None
        self.gain = nn.Linear(c.d_model, self.RULES + self.COUNTS)
        # Rules added to a trained head have gains of their own, trained alone (train.py head --init-from --train-only).
        self.heard_gain = nn.Linear(c.d_model, 1) if c.heard_count else None
        self.view_gain = nn.Linear(c.d_model, 1) if c.sound_in_view else None
        for layer in self.gain_layers():
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)

    def gain_layers(self):
        """The layers by which the sentence sets the rules' gains: the shared one, and each added rule's."""
        return [layer for layer in (self.gain, self.heard_gain, self.view_gain) if layer is not None]

    @staticmethod
    def ranks(sounds, entry, loud, pitch):
        """(B, P, RANK_WORDS) whether each performer holds each rank, and (B, P) how many sounding
        performers came in before it."""
        p = entry.shape[1]
        order = entry * p + torch.arange(p, dtype=entry.dtype, device=entry.device)  # entry, then left to right
        before = count_where(order[:, None, :] < order[:, :, None], sounds)
        after = count_where(order[:, None, :] > order[:, :, None], sounds)
        louder = count_where(loud[:, None, :] > loud[:, :, None], sounds)
        lower = count_where(pitch[:, None, :] < pitch[:, :, None], sounds)
        ranks = [before == 0, after == 0, louder == 0, lower == 0] + [before == k for k in (1, 2, 3, 4)]
        return sounds[..., None] * torch.stack([r.to(sounds.dtype) for r in ranks], -1), before

    @staticmethod
    def asked(codes, word_mask):
        """(B, codes): which of these coded words the question holds."""
        return (codes * word_mask[..., None].to(codes.dtype)).amax(1)

    @staticmethod
    def first_and_second(word_codes, word_mask):
        """(B, codes) each: what the first and the second word with one of these codes names."""
        named = word_codes * word_mask[..., None].to(word_codes.dtype)
        count = torch.cumsum(named.sum(-1), 1)
        return [torch.einsum("bl,blr->br", (count == k).to(named.dtype), named) for k in (1, 2)]

    @staticmethod
    def per_class(per_class, segment_mask):
        """(B, classes) each, from Concepts' per-class facts thresholded as the performers' are:
        seconds heard, and where heard the mean loudness and onsets (−100 when never heard)."""
        _, seconds, means = heard_facts(per_class, segment_mask.to(per_class.dtype))
        return seconds, means[..., 0], means[..., 1]

    @staticmethod
    def rates_by_ear(onsets_by_ear, segment_mask):
        """(B, classes): log(1 + TinyOnsets' onsets per second over the seconds it hears each class)
        (−100 when it never does): "more rhythmic" as the questions define it (onsets per second of
        play), on the log scale of the readouts' per-performer means it is compared with."""
        k = onsets_by_ear.shape[-1] // 2
        heard = (onsets_by_ear[..., k:] > 0).to(onsets_by_ear.dtype) * segment_mask[..., None].to(onsets_by_ear.dtype)
        seconds = heard.sum(1)
        rate = ((torch.exp(onsets_by_ear[..., :k]) - 1) * heard).sum(1) / seconds.clamp(min=1)
        return torch.where(seconds > 0, torch.log1p(rate), torch.full_like(rate, -100.0))

    def off_stage_classes(self, seconds, seen_classes):
        """(B, classes): heard for two seconds or more (one is too easily a stray) and held by no
        performer on stage, nor its look-alike (sight confuses the two)."""
        on_stage = seen_classes
        for a, b in self.lookalike_pairs:
            unit_a, unit_b = torch.eye(seen_classes.shape[-1], dtype=seen_classes.dtype, device=seen_classes.device)[[a, b]]
            either = torch.maximum(seen_classes[:, a], seen_classes[:, b])[:, None]
            on_stage = torch.maximum(on_stage, (unit_a + unit_b) * either)
        return (seconds >= 2).to(on_stage.dtype) * (1 - on_stage)

    @staticmethod
    def neighbours(occupied, side):
        """(B, P, Q): Q is the nearest performer on the named side (B, 3: left or right) of P."""
        p = occupied.shape[1]
        index = torch.arange(p, dtype=occupied.dtype, device=occupied.device)
        q_left_of_p = (index[None, :] < index[:, None]).to(occupied.dtype)  # (P, Q)
        # Performers strictly between P and Q, either way round: none for a neighbour.
        lo, hi = torch.minimum(index[:, None], index[None, :]), torch.maximum(index[:, None], index[None, :])
        inside = ((index[None, None, :] > lo[..., None]) & (index[None, None, :] < hi[..., None])).to(occupied.dtype)
        between = torch.einsum("pqr,br->bpq", inside, occupied)
        adjacent = occupied[:, None, :] * (between == 0).to(occupied.dtype)
        toward = side[:, 0, None, None] * q_left_of_p + side[:, 2, None, None] * q_left_of_p.t()
        return adjacent * toward

    def forward(self, words, word_mask, sentence, facts, segment_mask, stereo=None):
        ranks_at = WORD_CODES + len(RANK_WORDS)
        codes, rank_codes, order_codes = words[..., :WORD_CODES], words[..., WORD_CODES:ranks_at], words[..., ranks_at : ranks_at + len(ORDER_WORDS)]
        lookalikes = (self.lookalike_pairs, facts["sounds_by_ear"], facts["playing"]) if self.lookalike_pairs else None
        by_pan = (stereo, self.stereo_templates) if self.stereo_templates is not None and stereo is not None else None
        sight_count = None
        if self.stage_count_by_sight:  # the frame readout's performer count (count / 5), over the window
            sight_count = torch.round(PERFORMER_COUNT_SCALE * masked_mean(facts["performer_count"][..., None], segment_mask[..., None], 1)[:, 0])
        occupied, sounds, one_hot, entry, loud, onsets, pitch, heard = thresholded_performers(facts["columns"], facts["per_class"], segment_mask, lookalikes, by_pan, sight_count)
        regions = column_regions(entry.shape[1], entry)  # (P, 3)
        class_facts = self.per_class(facts["per_class"], segment_mask)
        if self.onset_rates:  # a class's rate is a performer's only where it is the one of its class on stage
            rates = self.rates_by_ear(facts["onsets_by_ear"], segment_mask)
            class_facts = (*class_facts[:2], rates)
            alone = torch.einsum("bpc,bc->bp", one_hot, (one_hot.sum(1) == 1).to(one_hot.dtype))
            onsets = torch.where((sounds * alone) > 0, torch.einsum("bpc,bc->bp", one_hot, rates), onsets)
        seen_classes, heard_classes = one_hot.amax(1), (class_facts[0] > 0).to(sounds.dtype)
        holds, before = self.ranks(sounds, entry, loud, pitch)
        picked = torch.einsum("br,bpr->bp", self.asked(rank_codes, word_mask), holds)
        side = torch.einsum("bp,pr->br", picked, regions)
        first, second = self.first_and_second(codes[..., INSTRUMENT_CLASSES : INSTRUMENT_CLASSES + SIDE_COUNT], word_mask)
        standing = torch.einsum("bp,pr->br", occupied, regions)
        single = (standing == 1).to(entry.dtype)  # thirds with exactly one performer

        def more(a, b):  # +1 when a is more, else −1 (neither heard: "no", as the truth has it)
            return 2 * (a > b).to(a.dtype) - 1

        def compare(value):  # the single performers of the two named thirds; 0 where not single
            per_third = torch.einsum("bp,pr->br", occupied * value, regions)
            known = (single * first).sum(-1) * (single * second).sum(-1)
            return known * more((per_third * first).sum(-1), (per_third * second).sum(-1))

        class_a, class_b = self.first_and_second(codes[..., :INSTRUMENT_CLASSES], word_mask)
        named_two = class_a.sum(-1) * class_b.sum(-1)
        by_class = [named_two * more((class_a * value).sum(-1), (class_b * value).sum(-1)) for value in class_facts]

        matches = (side * first).sum(-1) * 2 - side.sum(-1).clamp(max=1)  # +1 it is there, −1 elsewhere
        # The performer a class word names (the only one of its class on stage, else none).
        named_class = self.asked(codes[..., :INSTRUMENT_CLASSES], word_mask)
        of_named = torch.einsum("bpc,bc->bp", one_hot, named_class)
        named = of_named * (of_named.sum(1, keepdim=True) == 1).to(of_named.dtype)
        beside = torch.einsum("bp,bpq->bq", named + picked, self.neighbours(occupied, first))
        asked_order = self.asked(order_codes, word_mask)  # (B, 2): before, after
        anchor_rank = torch.einsum("bp,bp->b", named * sounds, before)[:, None]
        anchored = (named * sounds).sum(1, keepdim=True)  # it sounds, so it has a place in the order
        next_to = sounds * anchored * (asked_order[:, :1] * (before == anchor_rank - 1).to(before.dtype) + asked_order[:, 1:] * (before == anchor_rank + 1).to(before.dtype))
        # Who plays most of the seconds the named one plays (another class).
        overlap = torch.einsum("btp,btq->bq", heard * named[:, None], heard) * (1 - torch.einsum("bpc,bc->bp", one_hot, named_class))
        best = overlap.amax(1, keepdim=True)
        together = (overlap == best).to(overlap.dtype) * (best > 0).to(overlap.dtype) * sounds
        gain = self.gain(sentence)
        performers = gain[:, :1] * picked + gain[:, 5:6] * beside + gain[:, 6:7] * next_to + gain[:, 10:11] * together
        instrument = torch.einsum("bp,bpc->bc", performers, one_hot)
        yes = gain[:, 2] * compare(loud) + gain[:, 3] * compare(onsets) + gain[:, 4] * matches
        yes = yes + gain[:, 7] * by_class[1] + gain[:, 8] * by_class[2] + gain[:, 9] * by_class[0]
        if self.heard_gain is not None or self.view_gain is not None:  # what both added rules read
            off_stage = self.off_stage_classes(class_facts[0], seen_classes)
        if self.view_gain is not None:  # +1 when every sound comes from the stage, else −1
            yes = yes + self.view_gain(sentence)[:, 0] * (1 - 2 * off_stage.amax(1))
        sounding_classes = (one_hot * sounds[..., None]).amax(1)
        counted = [occupied, sounds, occupied - sounds, seen_classes, sounding_classes, of_named, of_named * sounds, heard_classes]
        counts = [c.sum(1) for c in counted]
        gains = gain[:, self.RULES :]
        if self.heard_gain is not None:  # a performer on stage is counted as such, a class heard off stage once
            counts.append(sounds.sum(1) + off_stage.sum(1))
            gains = torch.cat([gains, self.heard_gain(sentence)], -1)
        counts = torch.stack(counts, -1)  # (B, COUNTS [+ 1])
        number = (counts[..., None] == torch.arange(len(COUNT_WORDS), dtype=counts.dtype, device=counts.device)).to(counts.dtype)
        counts = torch.einsum("bk,bkn->bn", gains, number)  # (B, zero … ten)
        return instrument, gain[:, 1:2] * side, torch.stack([yes, -yes], -1), counts


class Performers(nn.Module):
    """Not in the paper. "What is the instrument on the left of the violin?", "Where is the first
    sounding instrument?", "Is the instrument on the left louder than the one on the right?" are
    about performers: who stands where, who comes in when, how each sounds. Pooled streams and
    per-class evidence lose who is who; here each stage column (patch) is a performer token of its
    own — what stands there and on which side, how the class standing there sounds (ClassSlots'
    per-class channels), what is seen there, and when it first plays (a soft first-onset over the
    window), and how it stands among the others (stage_relations: outermost, how many left, right,
    before, after) — and the question's words and the performers attend to each other.
    A summary token goes to the classifier; each performer scores itself as the answer, onto the
    class standing there (instrument answers) and the side it stands on (left, middle, right)."""

    def __init__(self, c, heard_channels, channels=16, layers=2):
        super().__init__()
        d, evidence = c.d_model, heard_channels + channels
        self.look = nn.Linear(d, channels)
        self.active = nn.Linear(evidence, 1)
        self.facts = c.performer_facts
        self.ranks = RankPicker(c) if c.performer_facts and c.rank_words else None
        self.tokens = nn.Linear(d + 2 * evidence + INSTRUMENT_CLASSES + SIDE_COUNT + 2 + 6 + (STAGE_FACTS if self.facts else 0), d)
        self.kinds = nn.Parameter(torch.randn(3, d) * 0.02)  # summary, word, performer
        self.layers = nn.ModuleList(Reasoning(d, c.heads) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.instrument, self.position = nn.Linear(d, 1), nn.Linear(d, 1)

    def forward(self, patches, presence, side, per_class, words, word_mask, segment_mask, facts=None, rank_codes=None, sentence=None):
        b, p = patches.shape[0], patches.shape[2]
        valid = segment_mask[:, :, None, None]
        standing = torch.softmax(presence, -1)  # (B, T, P, classes)
        heard = torch.einsum("btpc,btcm->btpm", standing, per_class)
        evidence = torch.cat([heard, self.look(patches)], -1)  # (B, T, P, heard + seen channels)
        playing = torch.sigmoid(self.active(evidence))[..., 0] * segment_mask[:, :, None].to(evidence.dtype)
        # The second it first plays: playing then and in none before (a product, as a cumsum of logs).
        silent = torch.log1p(-playing.clamp(max=0.999))
        first = playing * torch.exp(torch.cumsum(silent, 1) - silent)  # (B, T, P)
        position = window_position(segment_mask, evidence.dtype)
        entry = torch.einsum("btp,bt->bp", first, position) + 2.0 * (1 - first.sum(1))  # never: past the end
        classes, sides = masked_mean(standing, valid, 1), masked_mean(torch.softmax(side, -1), valid, 1)
        pooled = [masked_mean(patches, valid, 1), masked_mean(evidence, valid, 1), evidence.masked_fill(~valid, -1e4).amax(1)]
        occupied = masked_mean(torch.sigmoid(presence).amax(-1), segment_mask[..., None], 1)  # (B, P)
        pooled += [classes, sides, entry[..., None], masked_mean(playing[..., None], valid, 1), stage_relations(occupied, entry)]
        if self.facts:
            stage = stage_facts(facts["columns"], facts["per_class"], segment_mask)
            pooled.append(stage)
        tokens = self.tokens(torch.cat(pooled, -1)) + self.kinds[2]
        x = torch.cat([self.kinds[0].expand(b, 1, -1), words + self.kinds[1], tokens], 1)
        mask = torch.cat([segment_mask[:, :1], word_mask, torch.ones_like(segment_mask[:, :1]).expand(b, p)], 1)
        for layer in self.layers:
            x = layer(x, mask)
        x = self.norm(x)
        performers = x[:, -p:]
        as_instrument, as_side = self.instrument(performers)[..., 0], self.position(performers)[..., 0]
        if self.ranks is not None:  # (not a + 0 otherwise: heads without it export as before)
            picked = self.ranks(rank_codes, word_mask, sentence, stage)
            as_instrument, as_side = as_instrument + picked, as_side + picked
        instrument = torch.einsum("bp,bpc->bc", as_instrument, classes)
        side_scores = torch.einsum("bp,bpr->br", as_side, sides)
        return x[:, 0], instrument, side_scores


class Concepts(nn.Module):
    """Per segment, what each frozen encoder was pretrained to report (train.py's readouts): per
    class whether it sounds, how loud, its onsets and pitch, and the voiceover (from the audio and
    AST features); per stage column which classes stand and play there (patch tokens); the classes
    seen, the venue and the performer count (frame embedding). Fixed linear maps (buffers, fitted
    on the pretraining truth, never trained with the head) whose outputs are appended to the
    streams, so the head reads facts with a binding to classes and columns it need not learn from
    questions. A pretrained extractor's tagging head (AST's AudioSet classes) plays this part for
    the paper's encoders."""

    def __init__(self, c: QStarConfig):
        super().__init__()
        k = c.concept_classes
        self.sizes = {"audio": 4 * k + 1, "columns": 2 * k, "frame": k + 2}
        inputs = {"audio": c.audio_dim + c.ast_bands * c.ast_dim, "columns": c.patch_dim, "frame": c.frame_dim}
        for name, size in self.sizes.items():
            self.register_buffer(f"{name}_weight", torch.zeros(size, inputs[name]))
            self.register_buffer(f"{name}_bias", torch.zeros(size))
        self.heard_hidden = c.heard_hidden
        self.onset_rates, self.audio_dim = c.onset_rates, c.audio_dim
        if c.onset_rates and c.audio_dim <= 2 * k:
            raise ValueError(f"onset_rates reads TinyOnsets' {2 * k} facts at the end of the audio stream; this one is {c.audio_dim} wide")
        if c.heard_hidden:  # sighted_hearing's two layers (train.py readouts --heard-hidden)
            self.register_buffer("heard_w1", torch.zeros(c.heard_hidden, inputs["audio"] + 2 * k))
            self.register_buffer("heard_b1", torch.zeros(c.heard_hidden))
            self.register_buffer("heard_w2", torch.zeros(k, c.heard_hidden))
            self.register_buffer("heard_b2", torch.zeros(k))

    def load(self, readouts):
        """Takes train.py readouts' maps: {name: (weight, bias)}, and "heard": (w1, b1, w2, b2)
        where the readouts were fitted with --heard-hidden."""
        for name in self.sizes:
            weight, bias = readouts[name]
            getattr(self, f"{name}_weight").copy_(weight)
            getattr(self, f"{name}_bias").copy_(bias)
        if self.heard_hidden:
            if "heard" not in readouts:
                raise ValueError("this head reads sounds with sight (heard_hidden); the readouts were fitted without --heard-hidden")
            for name, value in zip(("w1", "b1", "w2", "b2"), readouts["heard"]):
                getattr(self, f"heard_{name}").copy_(value)

    def read(self, name, x):
        return x @ getattr(self, f"{name}_weight").t() + getattr(self, f"{name}_bias")

    def forward(self, frames, patches, audio, ast):
        k = self.sizes["frame"] - 2
        sound = torch.cat([audio, ast.flatten(2)], -1)
        facts = self.read("audio", sound)
        by_ear = torch.sigmoid(facts[..., :k])  # the audio map alone, before sight joins in
        columns = torch.sigmoid(self.read("columns", patches))
        seen = self.read("frame", frames)
        if self.heard_hidden:
            logits = sighted_hearing(sound, torch.sigmoid(seen[..., :k]), columns, self.heard_w1, self.heard_b1, self.heard_w2, self.heard_b2)
            facts = torch.cat([logits, facts[..., k:]], -1)
        heard = torch.sigmoid(facts[..., :k])  # loudness, onsets and pitch count only where heard
        per_class = [heard] + [heard * facts[..., i * k : (i + 1) * k] for i in (1, 2, 3)]
        audio = torch.cat([audio, *per_class, torch.sigmoid(facts[..., -1:])], -1)
        patches = torch.cat([patches, columns], -1)
        frames = torch.cat([frames, torch.sigmoid(seen[..., : k + 1]), seen[..., -1:]], -1)
        # Per class (B, T, classes, CLASS_FACTS) and per column (B, T, P, classes seen there).
        read = {"per_class": torch.stack(per_class, -1), "columns": columns[..., :k], "sounds_by_ear": by_ear, "playing": columns[..., k:], "performer_count": seen[..., -1]}
        if self.onset_rates:  # TinyOnsets' facts, the last 2·classes of the clip features
            read["onsets_by_ear"] = audio[..., self.audio_dim - 2 * k : self.audio_dim]
        return frames, patches, audio, read


def sight_of_classes(seen, columns):
    """Per second and class (…, 2·classes): P(seen) from the frame readout, and the most that any
    stage column both shows it and shows it playing (columns: (…, P, 2·classes) probabilities)."""
    k = seen.shape[-1]
    return torch.cat([seen, (columns[..., :k] * columns[..., k:]).amax(-2)], -1)


def sighted_hearing(sound, seen, columns, w1, b1, w2, b2):
    """Not in the paper. Per second, per class logits of "it sounds" from the audio features and
    sight (sight_of_classes): the linear audio map tells 0.69 macro F1 of the validation scenes'
    seconds (0.52 through a room); a mix is easier to take apart knowing who is on stage and
    moving (0.85, and 0.79 through a room). Trained with silent audio too (train.py
    readouts --silent-features), so that sight alone is not heard."""
    x = torch.cat([sound, sight_of_classes(seen, columns)], -1)
    return F.gelu(x @ w1.t() + b1) @ w2.t() + b2


class QStar(nn.Module):
    """Inputs per window of T one-second segments (B = batch, P = patches, F = AST bands, L = words):
    frames (B,T,frame_dim), patches (B,T,P,patch_dim), audio (B,T,audio_dim), ast (B,T,F,ast_dim),
    words (B,L,word_dim), word_mask (B,L) bool, sentence (B,word_dim), segment_mask (B,T) bool;
    with stereo_templates also stereo (B,T,2,64), each second's mel-band power per channel.
    Returns logits (B,42), frequency (B,F), spatial (B,T,P), temporal (B,T).
    With window_of (Q,) int64 the window inputs hold each window once (W rows) and question q reads
    window window_of[q]: what does not depend on the question (Concepts, the input projections,
    STI's keys and values of the patches) is computed once per window, then taken per question."""

    def __init__(self, c: QStarConfig):
        super().__init__()
        self.config = c
        d = c.d_model
        self.concepts = Concepts(c) if c.concepts else None
        extra = self.concepts.sizes if self.concepts else {"audio": 0, "columns": 0, "frame": 0}
        self.frame_in, self.patch_in = nn.Linear(c.frame_dim + extra["frame"], d), nn.Linear(c.patch_dim + extra["columns"], d)
        self.audio_in, self.ast_in = nn.Linear(c.audio_dim + extra["audio"], d), nn.Linear(c.ast_dim, d)
        self.word_in, self.sentence_in = nn.Linear(c.word_dim, d), nn.Linear(c.word_dim, d)
        self.qgmc = QGMC(c) if c.qgmc and not c.late_fusion else None
        self.sti = STI(c) if c.sti and not c.late_fusion else None
        self.tfi = TFI(c) if c.tfi and not c.late_fusion else None
        self.qcr = QCR(c) if c.qcr and not c.late_fusion else None
        self.slots = ClassSlots(c) if c.class_slots and not c.late_fusion else None
        self.performers = Performers(c, self.slots.heard_channels) if self.slots and c.performers else None
        self.rules = StageRules(c) if self.slots and c.concepts and c.stage_rules else None
        if self.slots and (c.class_answers or c.performers or self.rules):
            self.register_buffer("class_to_answer", torch.eye(c.answers)[list(c.instrument_answers)])
        if self.performers or self.rules:
            self.register_buffer("side_to_answer", torch.eye(c.answers)[list(c.position_answers)])
        if self.rules:
            self.register_buffer("yes_no_to_answer", torch.eye(c.answers)[list(c.yes_no_answers)])
            self.register_buffer("count_to_answer", torch.eye(c.answers)[list(c.count_answers)])
        fused = 2 * d if c.late_fusion else (7 if c.window_summary else 3) * d
        fused += (self.slots.size if self.slots else 0) + (d if self.performers else 0)
        self.classifier = nn.Sequential(nn.Linear(fused, d), nn.GELU(), nn.Dropout(c.dropout), nn.Linear(d, c.answers))

    def forward(self, frames, patches, audio, ast, words, word_mask, sentence, segment_mask, stereo=None, window_of=None):
        coded, codes, rank_codes = words, words[..., :WORD_CODES], words[..., WORD_CODES : WORD_CODES + len(RANK_WORDS)]
        facts = None
        if self.concepts is not None:
            frames, patches, audio, facts = self.concepts(frames, patches, audio, ast)
        visual, audio = self.frame_in(frames), self.audio_in(audio)
        patches, ast = self.patch_in(patches), self.ast_in(ast)
        keys_values = self.sti.keys_values(patches) if self.sti is not None else None
        if window_of is not None:  # from here on, one row per question
            per_question = lambda x: None if x is None else x.index_select(0, window_of)  # noqa: E731
            visual, audio, patches, ast, segment_mask, stereo = map(per_question, (visual, audio, patches, ast, segment_mask, stereo))
            facts = None if facts is None else {name: per_question(x) for name, x in facts.items()}
            keys_values = None if keys_values is None else tuple(map(per_question, keys_values))
        heard_as_given = audio  # before the question mixes in: what ClassSlots reads per class
        words, sentence = self.word_in(words), self.sentence_in(sentence)
        # Uniform maps where a module is off (built from the inputs so they stay graph inputs).
        frequency = torch.ones_like(ast[:, 0, :, 0]) / ast.shape[2]
        spatial = torch.ones_like(patches[..., 0]) / patches.shape[2]
        temporal = masked_softmax(torch.zeros_like(visual[..., 0]), segment_mask)

        if self.config.late_fusion:
            pooled = masked_mean(visual, segment_mask[..., None], 1) + masked_mean(audio, segment_mask[..., None], 1)
            fused = torch.cat([pooled * torch.tanh(sentence), masked_mean(ast.mean(2), segment_mask[..., None], 1)], -1)
            return self.classifier(fused), frequency, spatial, temporal

        if self.qgmc is not None:
            visual, audio = self.qgmc(visual, audio, words, segment_mask, word_mask)
        if self.tfi is not None:
            audio, frequency = self.tfi(audio, ast, sentence, segment_mask)
        if self.sti is not None:
            visual, spatial, temporal = self.sti(visual, audio, patches, segment_mask, keys_values)
        if self.qcr is not None:
            visual, audio = self.qcr(visual, audio, sentence)
        pooled_visual = torch.einsum("bt,btd->bd", temporal, visual)
        pooled_audio = torch.einsum("bt,btd->bd", temporal, audio)
        parts = [pooled_visual, pooled_audio, sentence]
        if self.config.window_summary:
            gate, valid = torch.tanh(sentence), segment_mask[..., None]
            for stream in (visual, audio):
                parts += [masked_mean(stream, valid, 1) * gate, stream.masked_fill(~valid, -1e4).amax(1) * gate]
        answer_scores = []  # per-answer scores the slots' modules add to the classifier's logits
        if self.slots is not None:
            presence, side, per_class = self.slots.read(patches, heard_as_given, ast, facts)
            features, scores = self.slots(codes, word_mask, patches, presence, side, per_class, segment_mask, sentence)
            parts.append(features)
            if scores is not None:  # each class's own score, onto its answer
                answer_scores.append(scores @ self.class_to_answer)
            if self.performers is not None:
                summary, instrument, side_scores = self.performers(patches, presence, side, per_class, words, word_mask, segment_mask, facts, rank_codes, sentence)
                parts.append(summary)
                answer_scores += [instrument @ self.class_to_answer, side_scores @ self.side_to_answer]
        if self.rules is not None:
            instrument, side_scores, yes_no, counts = self.rules(coded, word_mask, sentence, facts, segment_mask, stereo)
            answer_scores += [instrument @ self.class_to_answer, side_scores @ self.side_to_answer, yes_no @ self.yes_no_to_answer, counts @ self.count_to_answer]
        logits = self.classifier(torch.cat(parts, dim=-1))
        for answer_score in answer_scores:
            logits = logits + answer_score
        return logits, frequency, spatial, temporal


# ---------------------------------------------------------------------------- tiny profile encoders


class QuestionEncoder(nn.Module):
    """Word ids → word tokens (B,L,d) and sentence embedding (B,d): a closed-vocabulary stand-in for
    the paper's CLIP text encoder (the MUSIC-AVQA question space has ~100 distinct words)."""

    def __init__(self, vocabulary_size, d, max_words=24, layers=1, heads=4, summary_token=False, codes=None):
        super().__init__()
        self.embed = nn.Embedding(vocabulary_size, d)
        # With `codes` (word_codes()), each word token's first WORD_CODES dims are its fixed code.
        self.register_buffer("codes", codes if codes is not None else torch.zeros(vocabulary_size, 0))
        self.position = nn.Parameter(torch.randn(max_words, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        # A learned token read out as the sentence (as CLIP reads its end token), which can keep
        # word order; without it the sentence is the mean of the words.
        self.summary = nn.Parameter(torch.randn(1, 1, d) * 0.02) if summary_token else None

    def forward(self, ids, mask):
        x = self.embed(ids) + self.position[: ids.shape[1]]
        if self.summary is None:
            x = self.encoder(x, src_key_padding_mask=~mask)
            return self.coded(x, ids), masked_mean(x, mask[..., None], 1)
        x = torch.cat([self.summary.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.encoder(x, src_key_padding_mask=~torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1))
        return self.coded(x[:, 1:], ids), x[:, 0]

    def coded(self, words, ids):
        n = self.codes.shape[1]
        return torch.cat([self.codes[ids], words[..., n:]], -1) if n else words


def conv_stage(inputs, outputs, stride, convs=2):
    """3×3 convolutions (the first strided), each with batch norm and ReLU: a VGG-style stage."""
    layers = []
    for k in range(convs):
        layers += [nn.Conv2d(inputs if k == 0 else outputs, outputs, 3, stride=stride if k == 0 else 1, padding=1, bias=False)]
        layers += [nn.BatchNorm2d(outputs), nn.ReLU()]
    return nn.Sequential(*layers)


def conv_stages(widths):
    """Stride-2 stages through `widths`; the first, at full resolution, has one convolution (cost)."""
    return nn.Sequential(*(conv_stage(widths[k], widths[k + 1], 2, convs=1 if k == 0 else 2) for k in range(len(widths) - 1)))


class ConvGrid(nn.Module):
    """Strided convolution stages down to a grid of tokens, then one transformer layer across them
    (with a learned position per grid cell, so tokens know where they are): the tiny stand-in for
    AST's and CLIP's ViTs (convolutions learn fast from ~10k examples)."""

    def __init__(self, channels, widths, d, grid, heads=4):
        super().__init__()
        self.stem = conv_stages([channels, *widths, d])
        self.position = nn.Parameter(torch.zeros(1, grid[0] * grid[1], d))
        layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1)
        self.norm = nn.LayerNorm(d)

    def forward(self, x):  # (N, C, H, W) → (N, gh, gw, d)
        grid = self.stem(x)
        n, d, gh, gw = grid.shape
        tokens = self.norm(self.encoder(grid.flatten(2).transpose(1, 2) + self.position))
        return tokens.reshape(n, gh, gw, d)


class TinyAST(nn.Module):
    """1 s of 128-bin fbank (N, 100, 128) → frequency tokens (N, 8, d), pooled over time."""

    def __init__(self, d=64, widths=(24, 48, 64)):
        super().__init__()
        # Frames paired first (20 ms is fine enough for timbre and onsets, at a quarter of the cost);
        # then time 50 → 25 → 13 → 7 → 4, frequency 128 → 64 → 32 → 16 → 8.
        self.body = ConvGrid(1, widths, d, grid=(4, 8))

    def forward(self, fbank):
        return self.body(F.avg_pool2d(fbank[:, None], (2, 1))).mean(1)


class TinyAudioClip(nn.Module):
    """One 0.96 s VGGish example (N, 96, 64) → clip embedding (N, d)."""

    def __init__(self, d=128, widths=(24, 48, 96)):
        super().__init__()
        self.body = conv_stages([1, *widths, d])
        self.out = nn.Linear(2 * d, d)

    def forward(self, logmel):
        x = self.body(logmel[:, None]).flatten(2)  # (N, d, 6 × 4)
        # Mean and max over the grid: a part that plays briefly still shows.
        return self.out(torch.cat([x.mean(2), x.amax(2)], dim=1))


def frequency_block(inputs, outputs):
    """A 3×3 convolution with batch norm and ReLU, then frequency halved and time kept."""
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU(), nn.MaxPool2d((1, 2)))


class TinyOnsets(nn.Module):
    """Not in the paper's encoders. One VGGish example (N, 96, 64) → per 10 ms frame and class,
    logits of a note starting there and of the class sounding (N, 96, classes each). Pretrained
    on the scenes' onset times (train.py encoders --only onsets): taught only a count per second,
    the clip encoders' features order 75 % of the onset-rate pairs the questions ask about, a
    probe of this network 91 % (README, session 17). Time is kept at full resolution and
    frequency pooled, then convolutions over time (the second dilated) see about a fifth of a
    second around each frame."""

    def __init__(self, classes=22, widths=(16, 32, 64), d=128):
        super().__init__()
        self.conv = nn.Sequential(*(frequency_block(a, b) for a, b in zip((1, *widths[:-1]), widths)))
        self.project = nn.Linear(widths[-1] * (64 >> len(widths)), d)
        self.near, self.far = nn.Conv1d(d, d, 5, padding=2), nn.Conv1d(d, d, 5, padding=4, dilation=2)
        self.onset, self.sounds = nn.Linear(d, classes), nn.Linear(d, classes)

    def forward(self, logmel):
        x = self.conv(logmel[:, None])  # (N, C, 96, bands)
        x = self.project(x.permute(0, 2, 1, 3).flatten(2)).transpose(1, 2)  # (N, d, 96)
        x = F.relu(x + self.near(x))
        x = F.relu(x + self.far(x)).transpose(1, 2)
        return self.onset(x), self.sounds(x)

    @staticmethod
    def per_second(onset, sounds):
        """(N, 2 · classes): per class log(1 + the onsets expected in the example), and the logit
        of its sounding in the loudest frame."""
        return torch.cat([torch.log1p(torch.sigmoid(onset).sum(1)), sounds.amax(1)], -1)


class TinyFrame(nn.Module):
    """A whole frame (N, 3, 64, 128), not centre-cropped since left and right matter → frame
    embedding (N, d) and patch tokens (N, 8, d): a 1 × 8 grid of full-height stage columns, 16
    pixels wide (where a performer stands is what the questions ask; rows would only multiply the
    head's cost)."""

    def __init__(self, d=64, widths=(32, 48, 64)):
        super().__init__()
        self.body = ConvGrid(3, widths, d, grid=(4, 8))

    def forward(self, image):
        columns = self.body(image).mean(1)
        return columns.mean(1), columns


# ---------------------------------------------------------------------------- paper profile encoders
# The frozen extractors of the paper, with parameter names laid out as their public checkpoints
# lay them out, so `load_state_dict` takes those weights unchanged (see export.py).


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ClipBlock(nn.Module):
    """OpenAI CLIP's ResidualAttentionBlock (sequence-first)."""

    def __init__(self, d, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(d, 4 * d))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * d, d))

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ClipTransformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.Sequential(*(ClipBlock(width, heads) for _ in range(layers)))

    def forward(self, x):
        return self.resblocks(x)


class ClipVisual(nn.Module):
    """CLIP's image tower (ViT-L/14 by default): a 224² image → frame embedding (N, output_dim)
    and patch tokens (N, 256, width), the latter after ln_post as patch-level visual features."""

    def __init__(self, resolution=224, patch=14, width=1024, layers=24, heads=16, output_dim=768):
        super().__init__()
        grid = resolution // patch
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width) * width**-0.5)
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, width) * width**-0.5)
        self.ln_pre, self.ln_post = nn.LayerNorm(width), nn.LayerNorm(width)
        self.transformer = ClipTransformer(width, layers, heads)
        self.proj = nn.Parameter(torch.randn(width, output_dim) * width**-0.5)

    def forward(self, image):
        x = self.conv1(image).flatten(2).transpose(1, 2)  # (N, P, width)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        x = self.transformer(x.transpose(0, 1)).transpose(0, 1)
        x = self.ln_post(x)
        return x[:, 0] @ self.proj, x[:, 1:]


class VGGish(nn.Module):
    """VGGish (torchvggish's layout): a 0.96 s example (N, 96, 64) → 128-d embedding (before PCA)."""

    def __init__(self, widths=(64, 128, 256, 512), hidden=4096):
        super().__init__()
        layers, channels = [], 1
        a, b, c, d = widths
        for width in (a, "M", b, "M", c, c, "M", d, d, "M"):
            if width == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
                channels = width
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(
            nn.Linear(d * 4 * 6, hidden), nn.ReLU(True), nn.Linear(hidden, hidden), nn.ReLU(True), nn.Linear(hidden, 128), nn.ReLU(True)
        )

    def forward(self, logmel):
        x = self.features(logmel[:, None])
        # TensorFlow's flatten order (channels last), as the released weights expect.
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return self.embeddings(x)


class ASTLayer(nn.Module):
    """A ViT layer under Hugging Face's ASTModel names (attention.attention.query, …)."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.attention = nn.Module()
        self.attention.attention = nn.Module()
        self.attention.attention.query = nn.Linear(d, d)
        self.attention.attention.key = nn.Linear(d, d)
        self.attention.attention.value = nn.Linear(d, d)
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, 4 * d)
        self.output = nn.Module()
        self.output.dense = nn.Linear(4 * d, d)
        self.layernorm_before, self.layernorm_after = nn.LayerNorm(d, eps=1e-12), nn.LayerNorm(d, eps=1e-12)

    def forward(self, x):
        n, length, d = x.shape
        a = self.attention.attention
        y = self.layernorm_before(x)
        split = lambda t: t.view(n, length, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(a.query(y)), split(a.key(y)), split(a.value(y))
        attended = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1) @ v
        x = x + self.attention.output.dense(attended.transpose(1, 2).reshape(n, length, d))
        return x + self.output.dense(F.gelu(self.intermediate.dense(self.layernorm_after(x))))


class AST(nn.Module):
    """Audio Spectrogram Transformer (AST base, AudioSet: 16×16 patches, stride 10, 1024 frames):
    one segment's fbank (N, frames, 128) → frequency tokens (N, 12, d) pooled over time. A 1 s
    segment (≤ 100 frames) uses the first time positions of the 10 s positional grid."""

    def __init__(self, d=768, layers=12, heads=12, max_frames=1024, bins=128):
        super().__init__()
        self.freq_grid, self.time_grid = (bins - 16) // 10 + 1, (max_frames - 16) // 10 + 1
        self.embeddings = nn.Module()
        self.embeddings.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.embeddings.distillation_token = nn.Parameter(torch.zeros(1, 1, d))
        self.embeddings.position_embeddings = nn.Parameter(torch.randn(1, self.freq_grid * self.time_grid + 2, d) * 0.02)
        self.embeddings.patch_embeddings = nn.Module()
        self.embeddings.patch_embeddings.projection = nn.Conv2d(1, d, 16, stride=10)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(ASTLayer(d, heads) for _ in range(layers))
        self.layernorm = nn.LayerNorm(d, eps=1e-12)

    def forward(self, fbank):
        e = self.embeddings
        x = e.patch_embeddings.projection(fbank.transpose(1, 2)[:, None])  # (N, d, freq, time)
        n, d, freq, time = x.shape
        grid = e.position_embeddings[:, 2:].view(1, self.freq_grid, self.time_grid, d)[:, :freq, :time]
        x = x.permute(0, 2, 3, 1) + grid  # (N, freq, time, d)
        special = torch.cat([e.cls_token + e.position_embeddings[:, :1], e.distillation_token + e.position_embeddings[:, 1:2]], 1)
        x = torch.cat([special.expand(n, -1, -1), x.reshape(n, freq * time, d)], dim=1)
        for layer in self.encoder.layer:
            x = layer(x)
        x = self.layernorm(x)[:, 2:].view(n, freq, time, d)
        return x.mean(2)


class ClipText(nn.Module):
    """CLIP's text tower (ViT-L/14's by default) under OpenAI's names: BPE ids (N, L) with
    <|startoftext|> … <|endoftext|> → word tokens (N, L, output_dim) and the sentence embedding
    (N, output_dim), taken at the end-of-text token as CLIP does."""

    def __init__(self, vocab=49408, context=77, width=768, layers=12, heads=12, output_dim=768):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.randn(context, width) * 0.01)
        self.transformer = ClipTransformer(width, layers, heads)
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.randn(width, output_dim) * width**-0.5)

    def forward(self, ids, mask):
        length = ids.shape[1]
        causal = torch.full((length, length), float("-inf")).triu(1)
        x = self.token_embedding(ids) + self.positional_embedding[:length]
        for block in self.transformer.resblocks:
            y = block.ln_1(x).transpose(0, 1)
            x = x + block.attn(y, y, y, attn_mask=causal, need_weights=False)[0].transpose(0, 1)
            x = x + block.mlp(block.ln_2(x))
        words = self.ln_final(x) @ self.text_projection
        end = (mask.long().sum(1) - 1).clamp(min=0)  # the end-of-text token closes each question
        return words, words[torch.arange(ids.shape[0]), end]


# ---------------------------------------------------------------------------- front-end as a graph
# The audio front-end of server/features (AST's Kaldi fbank, VGGish's log-mel) as one ONNX graph
# the encoders' execution provider can run on a batch of segments (issue #15 §3). Per frame every
# step before the spectrum (DC removal, pre-emphasis, window) is linear, so it folds with the DFT
# into one strided convolution; the mel matrices follow mel-filterbank.ts. The TypeScript
# front-end stays the reference: test/onnx-frontend.test.ts holds the two together.

SEGMENT_SAMPLES, FRAME, HOP, FFT = 16000, 400, 160, 512


def hz_to_mel(hz):
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def triangle_bands(bin_mels, edges):
    """(bands, bins) triangles with feet at edges[b], edges[b + 2] and peak at edges[b + 1]."""
    lower, center, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    with np.errstate(invalid="ignore"):
        rising, falling = (bin_mels[None, :] - lower) / (center - lower), (upper - bin_mels[None, :]) / (upper - center)
    return np.nan_to_num(np.maximum(0.0, np.minimum(rising, falling)))


def kaldi_mel_matrix(bins=128, low=20.0, high=8000.0):
    """torchaudio's Kaldi banks over the bins below Nyquist; the Nyquist bin weighs 0."""
    mel_low = hz_to_mel(low)
    edges = mel_low + (hz_to_mel(high) - mel_low) / (bins + 1) * np.arange(bins + 2)
    bands = triangle_bands(hz_to_mel(SEGMENT_SAMPLES / FFT * np.arange(FFT // 2)), edges)
    return np.pad(bands, ((0, 0), (0, 1)))


def vggish_mel_matrix(bins=64, low=125.0, high=7500.0):
    """mel_features.spectrogram_to_mel_matrix: the DC bin weighs 0."""
    bin_mels = hz_to_mel(np.linspace(0, SEGMENT_SAMPLES / 2, FFT // 2 + 1))
    bin_mels[0] = -np.inf
    return triangle_bands(bin_mels, np.linspace(hz_to_mel(low), hz_to_mel(high), bins + 2))


class FramedPower(nn.Module):
    """Power spectra (batch, FFT/2 + 1, frames) of FRAME-sample frames every HOP samples, each
    frame first through the fixed linear map `linear` (FRAME × FRAME)."""

    def __init__(self, linear):
        super().__init__()
        n, k = np.arange(FRAME), np.arange(FFT // 2 + 1)
        # In long double, which neither BLAS nor numpy's SIMD maths computes: in float64 the
        # products are summed in whatever order the CPU's BLAS kernel picks, and the float32 kernel
        # then differs by an ULP from machine to machine (the committed graph must be reproducible).
        angle = 2 * np.pi * np.outer(k, n).astype(np.longdouble) / FFT  # zero padding to FFT adds nothing
        linear = np.asarray(linear, np.longdouble)
        kernel = np.concatenate([np.cos(angle) @ linear, -np.sin(angle) @ linear])
        self.register_buffer("kernel", torch.from_numpy(kernel.astype(np.float32))[:, None, :])

    def forward(self, samples):
        real, imaginary = F.conv1d(samples[:, None, :], self.kernel, stride=HOP).chunk(2, dim=1)
        return real * real + imaginary * imaginary


class AudioFrontend(nn.Module):
    """(batch, 16000) samples → AST's normalised fbank (batch, ast_frames, 128) and VGGish's
    log-mel example (batch, 96, 64), as segment-frontend.ts makes them."""

    def __init__(self, ast_frames=100, preemphasis=0.97, ast_mean=-4.2677393, ast_std=4.5689974):
        super().__init__()
        n = np.arange(FRAME, dtype=np.longdouble)
        dc = np.eye(FRAME, dtype=np.longdouble) - 1.0 / FRAME  # long double: see FramedPower
        emphasis = np.eye(FRAME, dtype=np.longdouble) - preemphasis * np.eye(FRAME, k=-1)
        emphasis[0, 0] = 1 - preemphasis  # the first sample is its own predecessor
        hann = 0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME - 1))  # Kaldi's symmetric 'hanning'
        self.fbank_power = FramedPower(np.diag(hann) @ emphasis @ dc)
        self.vggish_power = FramedPower(np.diag(0.5 - 0.5 * np.cos(2 * np.pi * n / FRAME)))  # periodic
        self.register_buffer("kaldi_mel", torch.tensor(kaldi_mel_matrix(), dtype=torch.float32))
        self.register_buffer("vggish_mel", torch.tensor(vggish_mel_matrix(), dtype=torch.float32))
        self.ast_frames, self.ast_mean, self.ast_scale = ast_frames, ast_mean, 1 / (2 * ast_std)

    def forward(self, samples):
        energies = torch.matmul(self.kaldi_mel, self.fbank_power(samples))
        fbank = torch.log(torch.clamp(energies, min=2.0**-23)).transpose(1, 2)
        fbank = F.pad(fbank, (0, 0, 0, self.ast_frames - fbank.shape[1]))  # AST's zero rows
        magnitude = torch.sqrt(self.vggish_power(samples))
        logmel = torch.log(torch.matmul(self.vggish_mel, magnitude) + 0.01).transpose(1, 2)[:, :96]
        return (fbank - self.ast_mean) * self.ast_scale, logmel


class PicturesFrontend(nn.Module):
    """RGB frames (batch, H, W, 3) bytes → normalised (batch, 3, out_h, out_w): Pillow's
    antialiased bicubic resize as two matrix products with its fixed-point taps (inputs: the
    caller makes them per frame size and crop, pil-bicubic-taps.ts), each pass rounded and
    clamped to bytes as Pillow does, then (x / 255 − mean) / std. In float64, where the 8-bit ×
    22-bit products and their sums are exact: the same bytes as Pillow."""

    def forward(self, pixels, horizontal, vertical, mean, std):
        x = pixels.to(torch.float64).permute(0, 1, 3, 2)  # (batch, H, 3, W)
        mid = torch.clamp(torch.floor(torch.matmul(x, horizontal.transpose(0, 1)) + 0.5), 0, 255)  # (batch, H, 3, out_w)
        rows = mid.flatten(2)  # (batch, H, 3 · out_w)
        out = torch.clamp(torch.floor(torch.matmul(vertical, rows) + 0.5), 0, 255)  # (batch, out_h, 3 · out_w)
        out = out.view(out.shape[0], out.shape[1], 3, -1).permute(0, 2, 1, 3).to(torch.float32)
        return (out / 255 - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)
