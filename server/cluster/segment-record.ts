/**
 * What an ingest node publishes per one-second segment (issue #13): the raw inputs, not front-end
 * or encoder outputs. Audio as 16-bit PCM at 16 kHz (32,000 bytes: a microphone's own resolution,
 * its quantisation noise at −96 dBFS far under the −50 dBFS a part needs to count as sounding) and
 * the frame as a JPEG (quality 95) at the source's size (≤ 640 × 360): 57,558 bytes for a demo
 * segment. What that changes for the tiny encoders (test/cluster-segment-record.test.ts): audio
 * features by 0.1–0.3 % of their largest value, frame and patch features by 1.6–2.4 %. Raw inputs are the
 * smallest form — the tiny front-end's outputs are ~100 KB a segment, the paper's ~700 KB — and
 * they let the inference node run the front-end where its encoders run (on a GPU, issue #15),
 * while the dashboard's picture comes from the same frame.
 * It also carries when its audio ended (wall clock at the ingest node), so an answer's latency
 * counts the time on the bus and in the queue, as the single monitor's counts its own waits.
 * Layout: magic "TS02", index (uint32), start (float64), audio ended at (float64, ms since the
 * epoch), sample count (uint32), int16 samples, then the JPEG to the end. A segment with both
 * channels is "TS03": the same with, after the samples, its band power per channel (2 × 64
 * float32, stereo-bands.ts: 512 bytes, computed at the ingest node, instead of 64 KB of channels).
 */
import { createCanvas, loadImage } from '@napi-rs/canvas';
import type { RgbFrame } from '../features/video/rgb-frame.js';
import { frameToJpeg } from '../hub/frame-jpeg.js';
import type { Segment } from '../segments/to-segments.js';
import { STEREO_BANDS, STEREO_CHANNELS, stereoBands } from '../features/audio/stereo-bands.js';

const MAGIC = 0x32305354; // "TS02", little-endian
const STEREO_MAGIC = 0x33305354; // "TS03": with band power per channel
const HEADER = 28;
const BANDS_BYTES = 4 * STEREO_CHANNELS * STEREO_BANDS;

/**
 * A segment as an inference node gets it: with the wall-clock time its audio ended, and (from a
 * source with both channels) its band power per channel.
 */
export type RecordedSegment = Segment & {
  readonly audioEndedAt: number;
  readonly stereoBands?: Float32Array;
};

export async function encodeSegment(
  segment: Segment,
  jpegQuality = 95,
  audioEndedAt = Date.now(),
): Promise<Uint8Array> {
  const jpeg = await frameToJpeg(segment.frame, jpegQuality);
  const samples = segment.samples.length;
  const bands = segment.channels && stereoBands(...segment.channels);
  const bandsBytes = bands ? BANDS_BYTES : 0;
  const bytes = new Uint8Array(HEADER + 2 * samples + bandsBytes + jpeg.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bands ? STEREO_MAGIC : MAGIC, true);
  view.setUint32(4, segment.index, true);
  view.setFloat64(8, segment.start, true);
  view.setFloat64(16, audioEndedAt, true);
  view.setUint32(24, samples, true);
  segment.samples.forEach((value, i) => {
    const clipped = Math.max(-1, Math.min(1, Number.isFinite(value) ? value : 0));
    view.setInt16(HEADER + 2 * i, Math.round(clipped * 32767), true);
  });
  bands?.forEach((value, i) => view.setFloat32(HEADER + 2 * samples + 4 * i, value, true));
  bytes.set(jpeg, HEADER + 2 * samples + bandsBytes);
  return bytes;
}

/** The inverse of encodeSegment; a record that is not one throws, saying what is wrong. */
export async function decodeSegment(bytes: Uint8Array): Promise<RecordedSegment> {
  if (bytes.byteLength < HEADER)
    throw new Error(`segment record truncated: ${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC && magic !== STEREO_MAGIC)
    throw new Error('not a segment record (bad magic)');
  const count = view.getUint32(24, true);
  const bandsAt = HEADER + 2 * count;
  const jpegAt = bandsAt + (magic === STEREO_MAGIC ? BANDS_BYTES : 0);
  if (jpegAt >= bytes.byteLength)
    throw new Error(
      `segment record truncated: ${count} samples and no frame in ${bytes.byteLength} bytes`,
    );
  const samples = new Float32Array(count);
  for (let i = 0; i < count; i++) samples[i] = view.getInt16(HEADER + 2 * i, true) / 32767;
  const stereo =
    magic === STEREO_MAGIC
      ? Float32Array.from({ length: BANDS_BYTES / 4 }, (_, i) =>
          view.getFloat32(bandsAt + 4 * i, true),
        )
      : undefined;
  return {
    ...(stereo && { stereoBands: stereo }),
    index: view.getUint32(4, true),
    start: view.getFloat64(8, true),
    audioEndedAt: view.getFloat64(16, true),
    samples,
    frame: await jpegToFrame(bytes.subarray(jpegAt)),
  };
}

async function jpegToFrame(jpeg: Uint8Array): Promise<RgbFrame> {
  let image;
  try {
    image = await loadImage(Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength));
  } catch (error) {
    throw new Error(`segment record's frame is not a readable JPEG: ${(error as Error).message}`);
  }
  // The size read once: each read of a native image's width is a call into the addon, and in
  // the loop's condition they made a segment's decoding take 300 ms instead of 5.
  const { width, height } = image;
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[3 * p] = rgba[4 * p]!;
    data[3 * p + 1] = rgba[4 * p + 1]!;
    data[3 * p + 2] = rgba[4 * p + 2]!;
  }
  return { width, height, data };
}
