"""ONNX export of QSTar's head and encoders, with dynamic batch, segments (T), patches (P), bands (F)
and words (L), plus parity fixtures for the TypeScript runtime.

    /usr/bin/python3 models/qstar/export.py parity OUT_DIR [--seed 0]
        Exports randomly initialised small heads (every module on, late fusion, STI+TFI off) and
        writes inputs and torch's outputs, for test/onnx-parity.test.ts to replay through
        onnxruntime-node.

    /usr/bin/python3 models/qstar/export.py paper OUT_DIR [--clip ViT-L-14.pt] [--vggish vggish.pth]
                                                          [--ast ast.bin] [--small] [--fixtures]
        Exports the paper's frozen encoders: CLIP ViT-L/14's image tower (frames + patches),
        VGGish and AST base. With a checkpoint each loads its public weights:
          --clip   OpenAI's ViT-L-14.pt (a TorchScript archive or a state dict; "visual.*" keys),
          --vggish torchvggish's vggish-10086976.pth (features.* / embeddings.* keys),
          --ast    Hugging Face's pytorch_model.bin of an AST AudioSet model (ASTModel or
                   ASTForAudioClassification: "audio_spectrogram_transformer." is stripped).
        Without one, the same architecture gets seeded random weights, so the runtime and
        benchmarks run here (ViT-L/14 alone is ~1.2 GB as ONNX). --small shrinks every
        architecture (tests); --fixtures writes inputs and torch's outputs beside each model;
        --profile --merges FILE [--head CKPT] also writes a QSTar head and the manifest.json that
        makes OUT_DIR a profile the monitor serves (TUTTI_PROFILE=OUT_DIR npm start);
        --per-question-head also the head as before session 21 (a window per question: for
        models/gpu-onnx.sh ab's comparisons).

    /usr/bin/python3 models/qstar/export.py windows-once HEAD.onnx [HEAD.onnx ...] [--undo]
        Rewrites heads exported before session 21 to take each window once: the window inputs
        (frames, patches, audio, ast, segment_mask, stereo) hold one row per window and
        `window_of` (int64, one per question) says which window each question reads; the graph
        gathers the rows at its inputs; answers are unchanged. --undo takes it out (for a
        monitor older than session 21, which repeats windows itself). Since session 22 every
        head export takes `window_of` itself and gathers after what does not depend on the
        question (computed once per window); --undo refuses such a head.

    /usr/bin/python3 models/qstar/export.py narrow-audio HEAD.onnx WIDTH
        Rewrites a head to take a wider audio stream and read its first WIDTH dimensions: a head
        trained before the audio encoder was joined with TinyOnsets (train.py encoders --only
        onsets, session 17) answers as it did (models/join-onsets.sh narrows the ablation heads).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import AST, INSTRUMENT_CLASSES, SEGMENT_SAMPLES, WORD_CODES, AudioFrontend, ClipText, ClipVisual, PicturesFrontend, QStar, QStarConfig, QuestionEncoder, TinyAudioClip, TinyOnsets, VGGish  # noqa: E402
from scene_truth import LOOKALIKE_PAIRS  # noqa: E402

OPSET = 17
HEAD_INPUTS = ["frames", "patches", "audio", "ast", "words", "word_mask", "sentence", "segment_mask"]
HEAD_OUTPUTS = ["logits", "frequency", "spatial", "temporal"]
# The inputs that hold a window (one row per window once windows_once has run), not a question.
WINDOW_INPUTS = ["frames", "patches", "audio", "ast", "segment_mask", "stereo"]
HEAD_AXES = {
    "frames": {0: "batch", 1: "segments"},
    "patches": {0: "batch", 1: "segments", 2: "patches"},
    "audio": {0: "batch", 1: "segments"},
    "ast": {0: "batch", 1: "segments", 2: "bands"},
    "words": {0: "batch", 1: "words"},
    "word_mask": {0: "batch", 1: "words"},
    "sentence": {0: "batch"},
    "segment_mask": {0: "batch", 1: "segments"},
    "stereo": {0: "batch", 1: "segments"},
    "logits": {0: "batch"},
    "frequency": {0: "batch", 1: "bands"},
    "spatial": {0: "batch", 1: "segments", 2: "patches"},
    "temporal": {0: "batch", 1: "segments"},
}


def example_inputs(c: QStarConfig, batch=2, segments=5, patches=6, bands=None, words=7, seed=0):
    bands = bands or (c.ast_bands if c.concepts else 4)
    g = torch.Generator().manual_seed(seed)
    segment_mask = torch.ones(batch, segments, dtype=torch.bool)
    segment_mask[-1, segments - 2 :] = False  # a shorter window in the batch
    word_mask = torch.ones(batch, words, dtype=torch.bool)
    word_mask[0, words - 3 :] = False
    return {
        "frames": torch.randn(batch, segments, c.frame_dim, generator=g),
        "patches": torch.randn(batch, segments, patches, c.patch_dim, generator=g),
        "audio": torch.randn(batch, segments, c.audio_dim, generator=g),
        "ast": torch.randn(batch, segments, bands, c.ast_dim, generator=g),
        "words": torch.randn(batch, words, c.word_dim, generator=g),
        "word_mask": word_mask,
        "sentence": torch.randn(batch, c.word_dim, generator=g),
        "segment_mask": segment_mask,
        **({"stereo": stereo_example(batch, segments, g)} if c.stereo_templates else {}),
    }


def stereo_example(batch, segments, g):
    """Power per second, channel and band: the first window mono (left = right), the others
    stereo, so both of stereo_power's branches are replayed."""
    stereo = torch.rand(batch, segments, 2, 64, generator=g)
    stereo[0, :, 1] = stereo[0, :, 0]
    return stereo


def head_inputs(c: QStarConfig):
    """The head graph's inputs: a head with stereo templates also takes `stereo`."""
    return HEAD_INPUTS + (["stereo"] if c.stereo_templates else [])


class HeadOverWindows(torch.nn.Module):
    """The head as the monitor calls it: the window inputs once per window, then `window_of`, the
    window each question reads (QStar.forward computes what does not depend on the question once
    per window)."""

    def __init__(self, head: QStar):
        super().__init__()
        self.head = head

    def forward(self, *inputs):
        *given, window_of = inputs
        return self.head(*given, window_of=window_of)


def export_head(model: QStar, path: str, inputs=None, per_question=False):
    """The head as ONNX, taking each window once (`window_of`); `per_question` exports it as heads
    were before session 21 — every window input one row per question — for comparisons."""
    model.eval()
    inputs = inputs or example_inputs(model.config)
    names = head_inputs(model.config)
    args = tuple(inputs[name] for name in names)
    if per_question:
        module, axes = model, HEAD_AXES
    else:
        # In eval mode before export: the exporter puts a module back in the mode it found it in.
        module = HeadOverWindows(model).eval()
        args, names = args + (torch.arange(inputs["words"].shape[0]),), names + ["window_of"]
        windows = {name: {**HEAD_AXES[name], 0: "windows"} for name in names if name in WINDOW_INPUTS}
        axes = {**HEAD_AXES, **windows, "window_of": {0: "batch"}}
    torch.onnx.export(module, args, path, input_names=names, output_names=HEAD_OUTPUTS, dynamic_axes=axes, opset_version=OPSET)


def windows_once(path, undo=False):
    """Rewrites the head at `path` so each window goes in once, however many questions read it:
    a Gather by `window_of` (int64, one per question) in front of every window input. The
    monitor asks a stream's standing questions over one window; repeating it per question cost a
    copy per question in the worker and on the way to a GPU (43.6 MB a hop with the paper profile's
    patches and four questions, 10.9 MB once). Idempotent; the graph is otherwise untouched. `undo` takes the
    gathers out again: a head for a monitor older than session 21 (and the tests' such head).
    Heads exported since session 22 gather inside (after what does not depend on the question,
    QStar.forward's window_of) and need neither."""
    import onnx
    from onnx import helper

    model = onnx.load(path)
    graph = model.graph
    if undo:
        return windows_per_question(model, path)
    if any(i.name == "window_of" for i in graph.input):
        return
    names = [i.name for i in graph.input if i.name in WINDOW_INPUTS]
    for node in graph.node:
        node.input[:] = [f"{name}_per_question" if name in names else name for name in node.input]
    for name in reversed(names):
        graph.node.insert(0, helper.make_node("Gather", [name, "window_of"], [f"{name}_per_question"], name=f"windows_once_{name}", axis=0))
    for i in graph.input:
        if i.name in names:
            i.type.tensor_type.shape.dim[0].dim_param = "windows"
    graph.input.append(helper.make_tensor_value_info("window_of", onnx.TensorProto.INT64, ["batch"]))
    onnx.checker.check_model(model)
    onnx.save(model, path)


def windows_per_question(model, path):
    """windows_once undone: the window inputs one per question again, no `window_of`."""
    import onnx

    graph = model.graph
    gathers = [node for node in graph.node if node.name.startswith("windows_once_")]
    if not gathers and any(i.name == "window_of" for i in graph.input):
        raise SystemExit(
            f"{path} gathers each question's window inside the graph (exported since session 22), "
            "not at its inputs: export the head again per question (export_head(..., per_question=True), "
            "or export.py paper --per-question-head)"
        )
    renamed = {node.output[0]: node.input[0] for node in gathers}
    for node in gathers:
        graph.node.remove(node)
    for node in graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
    for i in list(graph.input):
        if i.name == "window_of":
            graph.input.remove(i)
        elif i.name in renamed.values():
            i.type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.checker.check_model(model)
    onnx.save(model, path)


def export_question_encoder(encoder: QuestionEncoder, path: str, words=24):
    encoder.eval()
    ids = torch.zeros(1, words, dtype=torch.long)
    mask = torch.ones(1, words, dtype=torch.bool)
    torch.onnx.export(
        encoder,
        (ids, mask),
        path,
        input_names=["ids", "mask"],
        output_names=["words", "sentence"],
        dynamic_axes={"ids": {0: "batch", 1: "words"}, "mask": {0: "batch", 1: "words"}, "words": {0: "batch", 1: "words"}, "sentence": {0: "batch"}},
        opset_version=OPSET,
    )


class OnsetFacts(torch.nn.Module):
    """TinyOnsets' per-second facts as one graph output (what join_onsets appends)."""

    def __init__(self, onsets):
        super().__init__()
        self.onsets = onsets

    def forward(self, logmel):
        return TinyOnsets.per_second(*self.onsets(logmel))


def join_onsets(path, onsets):
    """Rewrites the audio encoder at `path` as its clip graph, untouched, beside TinyOnsets' per
    second facts: one output "embedding" (N, d + 2 · classes), the facts after the clip embedding,
    so the heads' input slots stay as they are (the monitor feeds whatever width the encoder
    gives). The clip's PyTorch weights need not exist: its graph is taken as it stands, and where
    onsets were joined before, the clip part of that graph is kept and the rest replaced."""
    import io

    import onnx
    from onnx import compose, helper

    clip = clip_graph(onnx.load(path))
    buffer = io.BytesIO()
    axes = {"logmel": {0: "batch"}, "facts": {0: "batch"}}
    torch.onnx.export(OnsetFacts(onsets).eval(), (torch.zeros(1, 96, 64),), buffer, input_names=["logmel"], output_names=["facts"], dynamic_axes=axes, opset_version=OPSET)
    facts = onnx.load_from_string(buffer.getvalue())
    logmel = onnx.ValueInfoProto()
    logmel.CopyFrom(clip.graph.input[0])  # before add_prefix renames it: both graphs read this one
    clip, facts = (compose.add_prefix(m, prefix) for m, prefix in ((clip, "clip/"), (facts, "onsets/")))
    for node in [*clip.graph.node, *facts.graph.node]:  # both read the one input
        node.input[:] = ["logmel" if name.endswith("/logmel") else name for name in node.input]
    join = helper.make_node("Concat", ["clip/embedding", "onsets/facts"], ["embedding"], name="join", axis=-1)
    clip_width = clip.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    width = clip_width + facts.graph.output[0].type.tensor_type.shape.dim[1].dim_value
    output = helper.make_tensor_value_info("embedding", onnx.TensorProto.FLOAT, ["batch", width])
    graph = helper.make_graph(
        [*clip.graph.node, *facts.graph.node, join], "tiny-audio", [logmel], [output], [*clip.graph.initializer, *facts.graph.initializer]
    )
    model = helper.make_model(graph, opset_imports=clip.opset_import, producer_name="tutti join_onsets")
    model.ir_version = clip.ir_version
    helper.set_model_props(model, {"clip_width": str(clip_width)})  # clip_graph finds the clip again by it
    onnx.checker.check_model(model)
    onnx.save(model, path)


def clip_graph(model):
    """The clip encoder alone: the model as it is, or the "clip/" part of one join_onsets made."""
    import onnx
    from onnx import helper

    if not any(node.name == "join" for node in model.graph.node):
        return model
    strip = lambda name: name[len("clip/") :] if name.startswith("clip/") else name
    nodes = [node for node in model.graph.node if node.name.startswith("clip/")]
    for node in nodes:
        node.name = strip(node.name)
        node.input[:] = [strip(n) for n in node.input]
        node.output[:] = [strip(n) for n in node.output]
    initializers = [t for t in model.graph.initializer if t.name.startswith("clip/")]
    for tensor in initializers:
        tensor.name = strip(tensor.name)
    width = int({p.key: p.value for p in model.metadata_props}["clip_width"])
    output = helper.make_tensor_value_info("embedding", onnx.TensorProto.FLOAT, ["batch", width])
    graph = helper.make_graph(nodes, "tiny-audio-clip", list(model.graph.input), [output], initializers)
    clip = helper.make_model(graph, opset_imports=model.opset_import)
    clip.ir_version = model.ir_version
    return clip


def with_readouts(saved, config, readouts):
    """A trained head with Concepts' fixed maps replaced by `readouts` (train.py readouts). Where
    they read a wider audio stream than the head was trained on (the audio encoder joined with
    TinyOnsets' facts, session 17), the head's learned audio projection reads the new dimensions
    with zero weights — the head is unchanged but for what the maps now tell it — and
    config.audio_dim becomes the new width."""
    if not config.concepts:
        raise SystemExit("--readouts needs a head with Concepts")
    width = readouts["audio"][0].shape[1] - config.ast_bands * config.ast_dim
    extra = width - config.audio_dim
    if extra < 0:
        raise SystemExit(f"--readouts read {width} audio dimensions, the head {config.audio_dim}: not a wider stream")
    state = dict(saved["best_state"])
    weight = state["head.audio_in.weight"]
    state["head.audio_in.weight"] = torch.cat([weight[:, : config.audio_dim], weight.new_zeros(weight.shape[0], extra), weight[:, config.audio_dim :]], 1)
    for name in ("audio", "columns", "frame"):
        state[f"head.concepts.{name}_weight"], state[f"head.concepts.{name}_bias"] = readouts[name]
    if config.heard_hidden:
        if "heard" not in readouts or readouts["heard"][0].shape[0] != config.heard_hidden:
            raise SystemExit(f"the head reads sounds with sight ({config.heard_hidden} units): fit the readouts with --heard-hidden {config.heard_hidden}")
        for name, value in zip(("w1", "b1", "w2", "b2"), readouts["heard"]):
            state[f"head.concepts.heard_{name}"] = value
    config.audio_dim = width
    return {**saved, "best_state": state, "config": config.to_dict()}


def narrow_audio(path, width):
    """Rewrites the head at `path` to take a wider audio stream and read only its first `width`
    dimensions (a Slice in front): a head trained before the audio encoder gained onsets' facts
    answers exactly as it did, from the same profile's features (README, session 17)."""
    import onnx
    from onnx import helper

    model = onnx.load(path)
    graph = model.graph
    audio = next((i for i in graph.input if i.name == "audio"), None)
    if audio is None:
        raise SystemExit(f"{path}: no audio input")
    if any(node.name == "narrow_audio" for node in graph.node):
        print(f"{path}: reads the first dimensions of its audio input already")
        return
    for node in graph.node:
        node.input[:] = ["audio_read" if name == "audio" else name for name in node.input]
    constants = [helper.make_tensor(name, onnx.TensorProto.INT64, [1], [value]) for name, value in (("audio_from", 0), ("audio_to", width), ("audio_axis", 2))]
    graph.initializer.extend(constants)
    graph.node.insert(0, helper.make_node("Slice", ["audio", "audio_from", "audio_to", "audio_axis"], ["audio_read"], name="narrow_audio"))
    audio.type.tensor_type.shape.dim[2].ClearField("dim_value")
    audio.type.tensor_type.shape.dim[2].dim_param = "audio_width"
    onnx.checker.check_model(model)
    onnx.save(model, path)


def save_array(directory, name, tensor):
    array = tensor.detach().numpy()
    dtype = {np.dtype("float32"): "float32", np.dtype("bool"): "bool", np.dtype("int64"): "int64"}[array.dtype]
    array.astype(array.dtype.newbyteorder("<")).tofile(os.path.join(directory, f"{name}.bin"))
    return {"file": f"{name}.bin", "dtype": dtype, "shape": list(array.shape)}


def case(out_dir, prefix, model, inputs, feeds=None):
    """Torch's outputs of `model` on `inputs`, and what the ONNX graph is fed (`feeds`, default
    the same inputs, each question reading its own window) to give them."""
    with torch.no_grad():
        outputs = model(*(inputs[n] for n in head_inputs(model.config)))
    feeds = {"window_of": torch.arange(inputs["words"].shape[0]), **(feeds or inputs)}
    return {
        "inputs": {n: save_array(out_dir, f"{prefix}.in.{n}", feeds[n]) for n in head_inputs(model.config) + ["window_of"]},
        "outputs": {n: save_array(out_dir, f"{prefix}.out.{n}", t) for n, t in zip(HEAD_OUTPUTS, outputs)},
    }


def shared_windows_case(out_dir, prefix, model, inputs, window_of=(1, 0, 1)):
    """Three questions over two windows (the first window read by the second question only):
    the graph gathers each question's window as torch answers the windows repeated."""
    c = model.config
    windows = example_inputs(c, batch=2, segments=inputs["frames"].shape[1], patches=inputs["patches"].shape[2], bands=inputs["ast"].shape[2], words=inputs["words"].shape[1], seed=7)
    questions = with_word_codes(example_inputs(c, batch=len(window_of), segments=1, words=inputs["words"].shape[1], seed=8))
    index = torch.tensor(window_of)
    per_question = {n: (windows[n][index] if n in WINDOW_INPUTS else questions[n]) for n in head_inputs(c)}
    feeds = {**{n: (windows[n] if n in WINDOW_INPUTS else questions[n]) for n in head_inputs(c)}, "window_of": index}
    return case(out_dir, prefix, model, per_question, feeds)


def with_word_codes(inputs):
    """Word tokens whose leading dims are codes as the tiny question encoder writes them: two noun
    phrases (an instrument and a side each), so ClassSlots' phrase logic is exercised."""
    words = inputs["words"].clone()
    words[..., :WORD_CODES] = 0
    for position, instrument, side in ((1, 3, 0), (4, 7, 2)):
        if position + 1 < words.shape[1]:
            words[:, position, instrument] = 1
            words[:, position, -1 + WORD_CODES] = 1  # starts a phrase
            words[:, position + 1, INSTRUMENT_CLASSES + side] = 1
    return {**inputs, "words": words}


# The shipped head's modules, small (parity's sighted_hearing; heard_count adds its switch;
# lookalikes, the shipped head's look-alikes by ear; stereo, its loudness by where it sounds).
SIGHTED_HEARING = {"word_dim": 36, "class_slots": True, "window_summary": True, "performers": True, "concepts": True, "class_facts": True, "stage_rules": True, "heard_hidden": 16, "concept_classes": 22, "ast_bands": 4, "instrument_answers": tuple(range(20, 42)), "position_answers": (3, 9, 15), "yes_no_answers": (1, 2), "count_answers": tuple(range(30, 41))}


def small_head(overrides, seed):
    """A small head with random weights (and random Concepts maps) and its example inputs."""
    torch.manual_seed(seed)
    config = QStarConfig(**{"d_model": 32, "heads": 4, "frame_dim": 24, "patch_dim": 20, "audio_dim": 16, "ast_dim": 12, "word_dim": 28, **overrides})
    model = QStar(config).eval()
    if model.concepts is not None:  # the readouts are fitted, not zero: random maps here
        for buffer in model.concepts.buffers():
            buffer.copy_(torch.randn(buffer.shape) * 0.3)
    if model.rules is not None:  # trained gains are large: let the rules' answers count here too
        for layer in model.rules.gain_layers():
            torch.nn.init.constant_(layer.bias, 3.0)
    return model, with_word_codes(example_inputs(config, seed=seed))


def parity(out_dir, seed):
    """Small heads with random weights; inputs with padded segments and words; torch's outputs."""
    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    variants = (
        ("full", {}),
        ("late_fusion", {"late_fusion": True}),
        ("no_tfi_sti", {"tfi": False, "sti": False}),
        ("class_slots", {"class_slots": True, "window_summary": True}),
        ("class_answers", {"class_slots": True, "window_summary": True, "class_answers": True, "instrument_answers": tuple(range(20, 42))}),
        ("performers", {"class_slots": True, "window_summary": True, "performers": True, "instrument_answers": tuple(range(20, 42)), "position_answers": (3, 9, 15)}),
        ("concepts", {"class_slots": True, "window_summary": True, "concepts": True, "concept_classes": 5, "ast_bands": 4}),
        ("rank_words", {"word_dim": 36, "class_slots": True, "window_summary": True, "performers": True, "concepts": True, "performer_facts": True, "rank_words": True, "concept_classes": 22, "ast_bands": 4, "instrument_answers": tuple(range(20, 42)), "position_answers": (3, 9, 15)}),
        ("stage_rules", {"word_dim": 36, "class_slots": True, "window_summary": True, "performers": True, "concepts": True, "class_facts": True, "stage_rules": True, "concept_classes": 22, "ast_bands": 4, "instrument_answers": tuple(range(20, 42)), "position_answers": (3, 9, 15), "yes_no_answers": (1, 2), "count_answers": tuple(range(30, 41))}),
        ("sighted_hearing", SIGHTED_HEARING),
        ("heard_count", {**SIGHTED_HEARING, "heard_count": True}),
        ("lookalikes", {**SIGHTED_HEARING, "lookalike_pairs": LOOKALIKE_PAIRS}),
        ("stereo", {**SIGHTED_HEARING, "lookalike_pairs": LOOKALIKE_PAIRS, "stereo_templates": tuple(tuple(row) for row in np.random.default_rng(seed).random((23, 64)).tolist())}),
        # Session 19's rules: rhythm by TinyOnsets' rates (the audio stream ends with its 44 facts), sound in view.
        ("rates_in_view", {**SIGHTED_HEARING, "lookalike_pairs": LOOKALIKE_PAIRS, "audio_dim": 60, "onset_rates": True, "sound_in_view": True}),
        # Session 20's: neighbouring columns of one class unmerged where the frame readout counts more performers.
        ("count_by_sight", {**SIGHTED_HEARING, "lookalike_pairs": LOOKALIKE_PAIRS, "audio_dim": 60, "onset_rates": True, "sound_in_view": True, "stage_count_by_sight": True}),
        ("performer_facts", {"class_slots": True, "window_summary": True, "performers": True, "concepts": True, "performer_facts": True, "concept_classes": 22, "ast_bands": 4, "instrument_answers": tuple(range(20, 42)), "position_answers": (3, 9, 15)}),
    )
    for name, overrides in variants:
        model, inputs = small_head(overrides, seed)
        config = model.config
        export_head(model, os.path.join(out_dir, f"{name}.onnx"), inputs)
        manifest[name] = {"model": f"{name}.onnx", "cases": [case(out_dir, f"{name}.0", model, inputs)]}
        # The same graph on another batch, window (T), patch grid (P), band count (F) and question (L).
        # (Concepts read a fixed number of bands, so that one stays.)
        other = example_inputs(config, batch=1, segments=9, patches=5, bands=config.ast_bands if config.concepts else 3, words=11, seed=seed + 1)
        manifest[name]["cases"].append(case(out_dir, f"{name}.1", model, with_word_codes(other)))
        manifest[name]["cases"].append(shared_windows_case(out_dir, f"{name}.2", model, inputs))
    manifest.update(wider_audio_cases(out_dir, seed))
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"parity fixtures in {out_dir}")


def wider_audio_cases(out_dir, seed, extra=5):
    """Session 17's wider audio stream (the clip embedding, then TinyOnsets' facts): the joined
    encoder gives both, and joined again keeps its clip part; a head narrowed to the old width
    (narrow_audio) and one whose maps read the new dimensions with zero weights (with_readouts)
    answer on the wide stream exactly as the head did on the narrow one."""
    model, inputs = small_head(SIGHTED_HEARING, seed)
    config = model.config
    wide = {**inputs, "audio": torch.cat([inputs["audio"], torch.randn(*inputs["audio"].shape[:2], extra)], -1)}
    cases = {}
    path = os.path.join(out_dir, "narrowed.onnx")
    export_head(model, path, inputs)
    narrow_audio(path, config.audio_dim)
    cases["narrowed"] = {"model": "narrowed.onnx", "cases": [case(out_dir, "narrowed.0", model, inputs, wide)]}
    pad = lambda w: torch.cat([w[:, : config.audio_dim], w.new_zeros(w.shape[0], extra), w[:, config.audio_dim :]], 1)
    c = model.concepts
    readouts = {"audio": (pad(c.audio_weight), c.audio_bias), "columns": (c.columns_weight, c.columns_bias), "frame": (c.frame_weight, c.frame_bias)}
    readouts["heard"] = (pad(c.heard_w1), c.heard_b1, c.heard_w2, c.heard_b2)
    saved = with_readouts({"config": config.to_dict(), "best_state": {f"head.{k}": v for k, v in model.state_dict().items()}}, QStarConfig(**config.to_dict()), readouts)
    widened = QStar(QStarConfig(**saved["config"])).eval()
    widened.load_state_dict({k[len("head.") :]: v for k, v in saved["best_state"].items()})
    export_head(widened, os.path.join(out_dir, "widened.onnx"), wide)
    cases["widened"] = {"model": "widened.onnx", "cases": [case(out_dir, "widened.0", model, inputs, wide)]}
    clip, onsets = TinyAudioClip(16, widths=(4, 8, 8)).eval(), TinyOnsets(widths=(4, 8, 8), d=16).eval()
    path, logmel = os.path.join(out_dir, "joined.onnx"), torch.randn(2, 96, 64)
    torch.onnx.export(clip, (logmel,), path, input_names=["logmel"], output_names=["embedding"], dynamic_axes={"logmel": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=OPSET)
    join_onsets(path, TinyOnsets(widths=(4, 8, 8), d=16))  # then again: the clip part stays, the facts are replaced
    join_onsets(path, onsets)
    with torch.no_grad():
        embedding = torch.cat([clip(logmel), TinyOnsets.per_second(*onsets(logmel))], -1)
    cases["joined"] = {"model": "joined.onnx", "cases": [{"inputs": {"logmel": save_array(out_dir, "joined.in.logmel", logmel)}, "outputs": {"embedding": save_array(out_dir, "joined.out.embedding", embedding)}}]}
    return cases


# ---------------------------------------------------------------------------- paper encoders


def read_state_dict(path):
    """A checkpoint's tensors: TorchScript archives (OpenAI CLIP) and plain state dicts alike."""
    try:
        return torch.jit.load(path, map_location="cpu").state_dict()
    except RuntimeError:
        state = torch.load(path, map_location="cpu")
        return state.get("state_dict", state) if isinstance(state, dict) else state.state_dict()


def load_weights(module, path, prefix):
    """Loads `path` into `module`, keeping keys under `prefix` (stripped); every key must match.
    With no prefix, keys that are no part of the module (CLIP's visual.*, logit_scale) are left."""
    state = {k[len(prefix) :]: v for k, v in read_state_dict(path).items() if k.startswith(prefix)}
    if not prefix:
        wanted = set(module.state_dict())
        state = {k: v for k, v in state.items() if k in wanted or not k.startswith(("visual.", "logit_scale", "input_resolution", "context_length", "vocab_size"))}
    if not state:
        raise SystemExit(f"{path}: no weights under '{prefix}' (is it the right checkpoint?)")
    missing, unexpected = module.load_state_dict(state, strict=False)
    unexpected = [k for k in unexpected if not k.startswith(("classifier", "pca"))]
    if missing or unexpected:
        raise SystemExit(f"{path}: weights do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return module


def paper_encoders(small, seed=0):
    """(name, module, example input, input name, output names) for each paper encoder; modules
    start with seeded random weights."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(7)  # the same example inputs whatever the weights
    if small:
        clip = ClipVisual(resolution=56, patch=14, width=32, layers=2, heads=4, output_dim=24)
        ast, vggish = AST(d=32, layers=2, heads=4), VGGish(widths=(4, 8, 8, 8), hidden=32)
        text, resolution = ClipText(vocab=1024, context=77, width=32, layers=2, heads=4, output_dim=24), 56
    else:
        clip, ast, vggish, text, resolution = ClipVisual(), AST(), VGGish(), ClipText(), 224
    ids = torch.randint(0, text.token_embedding.num_embeddings, (2, 9), generator=g)
    return [
        ("clip-text", text, (ids, torch.ones(2, 9, dtype=torch.bool)), ["ids", "mask"], ["words", "sentence"]),
        ("clip-visual", clip, (torch.randn(2, 3, resolution, resolution, generator=g),), ["image"], ["embedding", "patches"]),
        ("vggish", vggish, (torch.randn(2, 96, 64, generator=g),), ["logmel"], ["embedding"]),
        ("ast", ast, (torch.randn(2, 100, 128, generator=g),), ["fbank"], ["tokens"]),
    ]


def export_paper(args):
    os.makedirs(args.out_dir, exist_ok=True)
    checkpoints = {
        "clip-text": (args.clip, ""),  # CLIP's text tower sits at the top level of its checkpoint
        "clip-visual": (args.clip, "visual."),
        "vggish": (args.vggish, ""),
        "ast": (args.ast, "audio_spectrogram_transformer."),
    }
    manifest = {}
    for name, module, example, input_names, output_names in paper_encoders(args.small, args.seed):
        path, prefix = checkpoints[name]
        if name == "ast" and path:
            # Both ASTModel (no prefix) and ASTForAudioClassification layouts are accepted.
            keys = read_state_dict(path).keys()
            prefix = prefix if any(k.startswith(prefix) for k in keys) else ""
        if path:
            load_weights(module, path, prefix)
        module.eval()
        file = os.path.join(args.out_dir, f"{name}.onnx")
        axes = {**{i: {0: "batch"} for i in input_names}, **{o: {0: "batch"} for o in output_names}}
        if name == "ast":
            axes["fbank"][1] = "frames"
        if name == "clip-text":
            axes["ids"][1] = axes["mask"][1] = axes["words"][1] = "words"
        torch.onnx.export(module, example, file, input_names=input_names, output_names=output_names, dynamic_axes=axes, opset_version=OPSET)
        entry = {"model": f"{name}.onnx", "weights": path or f"random (seed {args.seed})"}
        if args.fixtures:
            with torch.no_grad():
                outputs = module(*example)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            entry["inputs"] = {i: save_array(args.out_dir, f"{name}.in.{i}", x) for i, x in zip(input_names, example)}
            entry["outputs"] = {o: save_array(args.out_dir, f"{name}.out.{o}", t) for o, t in zip(output_names, outputs)}
        manifest[name] = entry
        print(f"exported {file} ({entry['weights']})")
    with open(os.path.join(args.out_dir, "paper-encoders.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    if args.profile:
        write_paper_profile(args)


CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
ANSWER_ORDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tiny", "manifest.json")


def write_paper_profile(args):
    """A runnable `paper` profile: the encoders above, CLIP's merges, a QSTar head (random weights
    unless --head names a trained checkpoint from train.py) and the manifest the monitor reads."""
    if not args.merges:
        raise SystemExit("--profile needs --merges (CLIP's bpe_simple_vocab_16e6.txt[.gz])")
    modules = {name: module for name, module, *_ in paper_encoders(args.small, args.seed)}
    clip, text, ast = modules["clip-visual"], modules["clip-text"], modules["ast"]
    config = QStarConfig(
        d_model=32 if args.small else 512, heads=4 if args.small else 8,
        frame_dim=clip.proj.shape[1], patch_dim=clip.conv1.out_channels, audio_dim=128,
        ast_dim=ast.layernorm.normalized_shape[0], word_dim=text.text_projection.shape[1],
    )  # fmt: skip
    torch.manual_seed(args.seed)
    head = QStar(config)
    if args.head:  # train.py head's checkpoint on this profile's features: its config, best epoch
        saved = torch.load(args.head, map_location="cpu", weights_only=False)
        head = QStar(QStarConfig(**saved["config"])) if "config" in saved else head
        state = saved.get("best_state") or saved["state"]
        head.load_state_dict({k.removeprefix("head."): v for k, v in state.items()})
    export_head(head, os.path.join(args.out_dir, "qstar-paper.onnx"))
    if args.per_question_head:  # the same head as before session 21, for models/gpu-onnx.sh ab
        export_head(head, os.path.join(args.out_dir, "qstar-paper-per-question.onnx"), per_question=True)
    merges = "clip-merges" + (".txt.gz" if args.merges.endswith(".gz") else ".txt")
    with open(args.merges, "rb") as source, open(os.path.join(args.out_dir, merges), "wb") as target:
        target.write(source.read())
    with open(ANSWER_ORDER) as f:
        answers = json.load(f)["answers"]
    grid = clip.positional_embedding.shape[0] - 1
    side = int(round(grid**0.5))
    resolution = side * clip.conv1.kernel_size[0]
    profile = {
        "profile": "paper",
        "description": "CLIP ViT-L/14 frames and patches, VGGish, AST base, CLIP text; QSTar head (d = 512)."
        + (" Small random-weight stand-in." if args.small else ""),
        "frontend": {"astFrames": 100, "frameWidth": resolution, "frameHeight": resolution, "mean": CLIP_MEAN, "std": CLIP_STD, "frameResize": "centre-crop"},
        "encoders": {"ast": "ast.onnx", "audio": "vggish.onnx", "frame": "clip-visual.onnx"},
        "patchGrid": [side, side],
        "variants": {"full": {"question": "clip-text.onnx", "head": "qstar-paper.onnx"}},
        "clipMerges": merges,
        "answers": answers,
    }
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump(profile, f, indent=1)
    print(f"wrote the paper profile's manifest in {args.out_dir}")


def export_frontend(args):
    """The front-end as ONNX graphs for a batch of segments: audio (model.py's AudioFrontend) and
    pictures (PicturesFrontend)."""
    os.makedirs(args.out_dir, exist_ok=True)
    path = os.path.join(args.out_dir, "audio-frontend.onnx")
    samples = torch.randn(2, SEGMENT_SAMPLES, generator=torch.Generator().manual_seed(3)) * 0.1
    torch.onnx.export(
        AudioFrontend().eval(), (samples,), path, input_names=["samples"], output_names=["fbank", "logmel"],
        dynamic_axes={"samples": {0: "batch"}, "fbank": {0: "batch"}, "logmel": {0: "batch"}}, opset_version=OPSET,
    )  # fmt: skip
    print(f"exported {path}")
    path = os.path.join(args.out_dir, "pictures-frontend.onnx")
    g = torch.Generator().manual_seed(4)
    frames = torch.randint(0, 256, (2, 9, 16, 3), generator=g, dtype=torch.uint8)
    taps = (torch.rand(5, 16, generator=g, dtype=torch.float64), torch.rand(4, 9, generator=g, dtype=torch.float64))
    torch.onnx.export(
        PicturesFrontend().eval(), (frames, *taps, torch.rand(3), torch.rand(3) + 0.1), path,
        input_names=["pixels", "horizontal", "vertical", "mean", "std"], output_names=["image"],
        dynamic_axes={"pixels": {0: "batch", 1: "height", 2: "width"}, "horizontal": {0: "out_width", 1: "width"},
                      "vertical": {0: "out_height", 1: "height"}, "image": {0: "batch", 2: "out_height", 3: "out_width"}},
        opset_version=OPSET,
    )  # fmt: skip
    print(f"exported {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parity")
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=0)
    q = sub.add_parser("paper")
    q.add_argument("out_dir")
    q.add_argument("--clip")
    q.add_argument("--vggish")
    q.add_argument("--ast")
    q.add_argument("--small", action="store_true")
    q.add_argument("--fixtures", action="store_true")
    q.add_argument("--profile", action="store_true", help="also write a QSTar head and the profile's manifest.json")
    q.add_argument("--merges", help="CLIP's bpe_simple_vocab_16e6.txt(.gz), copied into the profile")
    q.add_argument("--head", help="a trained head checkpoint (train.py's .pt) for the profile")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--per-question-head", action="store_true", help="also the head taking a window per question (qstar-paper-per-question.onnx)")
    f = sub.add_parser("frontend", help="the front-end (AST fbank, VGGish log-mel; CLIP resize, crop, normalise) as ONNX graphs")
    f.add_argument("out_dir")
    w = sub.add_parser("windows-once", help="heads exported before session 21: take each window once, with window_of per question")
    w.add_argument("heads", nargs="+")
    w.add_argument("--undo", action="store_true", help="take the gathers out: windows one per question (monitors before session 21)")
    n = sub.add_parser("narrow-audio", help="a head ONNX that takes a wider audio stream and reads its first WIDTH dimensions")
    n.add_argument("head")
    n.add_argument("width", type=int)
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.command == "parity":
        parity(args.out_dir, args.seed)
    elif args.command == "paper":
        export_paper(args)
    elif args.command == "frontend":
        export_frontend(args)
    elif args.command == "windows-once":
        for head in args.heads:
            windows_once(head, undo=args.undo)
            print(f"{head}: " + ("takes one window per question" if args.undo else "takes each window once (window_of)"))
    elif args.command == "narrow-audio":
        narrow_audio(args.head, args.width)


if __name__ == "__main__":
    main()
