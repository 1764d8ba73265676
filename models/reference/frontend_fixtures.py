"""Reference vectors for the TypeScript front-end's parity tests (test/frontend-parity.test.ts).

Run with Debian's Python (it has torch, torchaudio, numpy and PIL):

    /usr/bin/python3 models/reference/frontend_fixtures.py test/fixtures/frontend

Writes little-endian binaries and a manifest.json describing them:
- signals: real FluidSynth renders (three soundfonts), noise, silence, a clipped tone, a short one;
- AST input: torchaudio.compliance.kaldi.fbank with AST's settings (float32 as AST runs it, and
  float64), and AST's normalisation;
- VGGish input: an independent NumPy implementation of the published recipe (mel_features.py);
- CLIP input: torchvision's recipe on PIL (Resize(224, BICUBIC) + CenterCrop(224)), on images
  drawn from a formula that the test draws again, so no image needs storing.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import wave

import numpy as np
import torch
import torchaudio
from PIL import Image

RATE = 16000
AST_MEAN, AST_STD = -4.2677393, 4.5689974
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


# ---------------------------------------------------------------- signals


def midi_file(program, notes, channel=0):
    """A type-0 standard MIDI file: (start_beat, beats, pitch, velocity) at 120 bpm, 480 ticks/beat."""
    events = [(0, bytes([0xC0 | channel, program]))]
    for start, length, pitch, velocity in notes:
        events.append((int(start * 480), bytes([0x90 | channel, pitch, velocity])))
        events.append((int((start + length) * 480), bytes([0x80 | channel, pitch, 0])))
    events.sort(key=lambda event: event[0])
    track, now = b"", 0
    for tick, data in events:
        delta, now = tick - now, tick
        varlen = [delta & 0x7F]
        while delta > 0x7F:
            delta >>= 7
            varlen.insert(0, (delta & 0x7F) | 0x80)
        track += bytes(varlen) + data
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def render(soundfont, program, notes, seconds, channel=0):
    """Renders with FluidSynth at 16 kHz and returns the mono mix (mean of channels) as float32."""
    with tempfile.TemporaryDirectory() as tmp:
        mid, wav = os.path.join(tmp, "x.mid"), os.path.join(tmp, "x.wav")
        with open(mid, "wb") as f:
            f.write(midi_file(program, notes, channel))
        subprocess.run(
            ["fluidsynth", "-ni", "-q", "-g", "0.8", "-r", str(RATE), "-F", wav, soundfont, mid],
            check=True,
            capture_output=True,
        )
        with wave.open(wav) as w:
            assert w.getframerate() == RATE and w.getsampwidth() == 2
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, w.getnchannels())
    mono = pcm.astype(np.float64).mean(axis=1) / 32768.0
    out = np.zeros(int(seconds * RATE))
    out[: min(len(out), len(mono))] = mono[: len(out)]
    return out.astype(np.float32)


def signals():
    melody = [(i * 0.5, 0.45, pitch, 100) for i, pitch in enumerate([60, 64, 67, 72, 67, 64, 60, 55])]
    beat = [(i * 0.25, 0.2, [36, 42, 38, 42][i % 4], 110) for i in range(16)]
    rng = np.random.default_rng(7)
    t = np.arange(RATE) / RATE
    return {
        "piano": render("/usr/share/sounds/sf2/FluidR3_GM.sf2", 0, melody, 2.0),
        "violin": render("/usr/share/sounds/sf3/MuseScore_General.sf3", 40, melody, 2.0),
        "drums": render("/usr/share/sounds/sf2/TimGM6mb.sf2", 0, beat, 2.0, channel=9),
        "noise": (0.3 * rng.standard_normal(RATE)).astype(np.float32),
        "silence": np.zeros(RATE, dtype=np.float32),
        "clipped": np.clip(3.0 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(RATE), -1, 1).astype(
            np.float32
        ),
        "short": (0.5 * np.sin(2 * np.pi * 1000 * np.arange(1234) / RATE)).astype(np.float32),
    }


# ---------------------------------------------------------------- AST (torchaudio, the reference itself)


def ast_fbank(samples, dtype=torch.float32):
    """AST's fbank call. In float64 too: torch's float32 FFT rounding moves the quietest bands of
    extreme signals by up to ~5e-3 (float64 torchaudio moves them as much); float64 isolates the
    algorithm from that noise. The float32 floor (log eps) is kept either way, as AST sees it."""
    waveform = torch.from_numpy(samples)[None, :].to(dtype)
    waveform = waveform - waveform.mean()  # as AST's loader does; per-frame DC removal makes it moot
    fbank = torchaudio.compliance.kaldi.fbank(
        waveform,
        htk_compat=True,
        sample_frequency=RATE,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    )
    return np.maximum(fbank.numpy(), np.log(np.finfo(np.float32).eps))


def ast_input(fbank, target_length):
    """AST's dataloader: zero-pad or crop to target_length frames, then (x - mean) / (2 * std)."""
    fbank = torch.from_numpy(fbank)
    p = target_length - fbank.shape[0]
    if p > 0:
        fbank = torch.nn.ZeroPad2d((0, 0, 0, p))(fbank)
    elif p < 0:
        fbank = fbank[0:target_length, :]
    return ((fbank - AST_MEAN) / (AST_STD * 2)).numpy()


# ---------------------------------------------------------------- VGGish (NumPy, after mel_features.py)


def hertz_to_mel(hz):
    return 1127.0 * np.log(1.0 + hz / 700.0)


def vggish_log_mel(samples):
    window, hop, fft = 400, 160, 512
    count = 1 + (len(samples) - window) // hop
    frames = np.lib.stride_tricks.as_strided(
        samples.astype(np.float64), shape=(count, window), strides=(hop * 8, 8)
    )
    periodic_hann = 0.5 - 0.5 * np.cos(2 * np.pi / window * np.arange(window))
    spectrogram = np.abs(np.fft.rfft(frames * periodic_hann, fft))
    bins_mel = hertz_to_mel(np.linspace(0.0, RATE / 2, fft // 2 + 1))
    edges = np.linspace(hertz_to_mel(125.0), hertz_to_mel(7500.0), 64 + 2)
    weights = np.empty((fft // 2 + 1, 64))
    for i in range(64):
        lower, center, upper = edges[i : i + 3]
        weights[:, i] = np.maximum(0.0, np.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center)))
    weights[0, :] = 0.0
    return np.log(spectrogram @ weights + 0.01)


# ---------------------------------------------------------------- CLIP (torchvision's recipe on PIL)


def pattern_image(width, height):
    """The test draws the same image: a gradient, a hard-edged checkerboard and hashed noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.int64)
    red = ((x * 255) // max(width - 1, 1) + (y * 255) // max(height - 1, 1)) // 2
    green = np.where(((x // 40) + (y // 40)) % 2 == 1, 255, 30)
    hashed = ((x * 73856093) ^ (y * 19349663)) & 0xFFFFFFFF
    blue = ((hashed * 2654435761) & 0xFFFFFFFF) >> 24
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)


def clip_pixels(rgb, size=224):
    height, width = rgb.shape[:2]
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    resized = Image.fromarray(rgb).resize((new_w, new_h), Image.BICUBIC)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    return np.asarray(resized.crop((left, top, left + size, top + size)))


def clip_normalise(pixels):
    return ((pixels.astype(np.float32) / 255.0 - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)).transpose(2, 0, 1)


# ---------------------------------------------------------------- output


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    manifest = {"rate": RATE, "audio": [], "clip": []}

    def save(name, array, dtype):
        array = np.ascontiguousarray(array, dtype=dtype)
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(array.astype(array.dtype.newbyteorder("<")).tobytes())
        return {"file": name, "shape": list(array.shape)}

    for name, samples in signals().items():
        entry = {"name": name, "signal": save(f"{name}.signal.f32", samples, np.float32)}
        entry["fbank"] = save(f"{name}.fbank.f32", ast_fbank(samples), np.float32)
        entry["fbank64"] = save(f"{name}.fbank64.f32", ast_fbank(samples, torch.float64), np.float32)
        if len(samples) >= 15600:  # one 0.96 s VGGish example needs 96 frames
            entry["vggish"] = save(f"{name}.vggish.f32", vggish_log_mel(samples), np.float32)
        manifest["audio"].append(entry)

    piano = next(e for e in manifest["audio"] if e["name"] == "piano")
    fbank = ast_fbank(signals()["piano"])
    for target in (100, 256):
        piano[f"astInput{target}"] = save(f"piano.ast{target}.f32", ast_input(fbank, target), np.float32)

    # Sizes: CLIP's 224 on landscape, odd (a .5 crop offset), portrait and upscaled frames; 96, a
    # size a smaller model's manifest may name.
    for width, height, size in ((1280, 720, 224), (641, 359, 224), (360, 640, 224), (100, 80, 224), (1280, 720, 96)):
        pixels = clip_pixels(pattern_image(width, height), size)
        normalised = clip_normalise(pixels)
        probes = [[c, y, x] for c in range(3) for y, x in ((0, 0), (size // 2, size // 4), (size - 1, size - 1))]
        manifest["clip"].append(
            {
                "width": width,
                "height": height,
                "size": size,
                "pixels": save(f"clip-{width}x{height}-{size}.u8", pixels, np.uint8),
                "probes": [{"at": p, "value": float(normalised[p[0], p[1], p[2]])} for p in probes],
            }
        )

    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {out_dir}/manifest.json (torch {torch.__version__}, torchaudio {torchaudio.__version__})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/frontend")
