/**
 * Encoded segments of every stream in a JetStream key-value bucket, for as long as a window needs
 * them: a stream's window state lives on the bus, not in the inference node that encoded it, so
 * any node rebuilds the window of any stream (issue #13: a stream survives the loss of the node
 * that held it; what that node had in flight JetStream redelivers to another).
 * Keys `<stream>.<index>`; values the four feature tensors in one binary record
 * (`encodeFeatures`); the bucket's maximum age drops segments no window reaches any more.
 * Bytes per segment: 5,096 for the tiny profile (1,260 floats); about 1.09 MB for the paper
 * profile (272k floats, the 256 × 1024 CLIP patches nearly all of it), above nats-server's default
 * 1 MB message limit — that profile needs `max_payload` raised (README, cluster section).
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { EncodedTensor, SegmentFeatures } from '../encoders/segment-encoders.js';

export const FEATURES_BUCKET = 'tutti-features';
const MAGIC = 0x31304654; // "TF01", little-endian
const STEREO_MAGIC = 0x32304654; // "TF02": a fifth tensor, the band power per channel
const TENSORS = ['ast', 'audio', 'frame', 'patches'] as const;

export interface StoredSegment {
  readonly index: number;
  /** Stream time of the segment's start, seconds. */
  readonly start: number;
  readonly features: SegmentFeatures;
}

/**
 * One record: magic, start (float64), then per tensor its rank, dims (uint32) and float32 data;
 * "TF02" when the segment's band power per channel follows as a fifth.
 */
export function encodeFeatures(start: number, features: SegmentFeatures): Uint8Array {
  const tensors = [
    ...TENSORS.map((name) => features[name]),
    ...(features.stereo ? [features.stereo] : []),
  ];
  const size = tensors.reduce((sum, t) => sum + 1 + 4 * t.dims.length + 4 * t.data.length, 12);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, features.stereo ? STEREO_MAGIC : MAGIC, true);
  view.setFloat64(4, start, true);
  let offset = 12;
  for (const { dims, data } of tensors) {
    view.setUint8(offset, dims.length);
    offset += 1;
    dims.forEach((dim, k) => view.setUint32(offset + 4 * k, dim, true));
    offset += 4 * dims.length;
    data.forEach((value, i) => view.setFloat32(offset + 4 * i, value, true));
    offset += 4 * data.length;
  }
  return bytes;
}

/** The inverse of encodeFeatures; a record that is not one throws, saying what is wrong. */
export function decodeFeatures(bytes: Uint8Array): { start: number; features: SegmentFeatures } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (offset: number, length: number) => {
    if (offset + length > bytes.byteLength)
      throw new Error(`feature record truncated: ${bytes.byteLength} bytes`);
  };
  need(0, 12);
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC && magic !== STEREO_MAGIC)
    throw new Error('not a feature record (bad magic)');
  const start = view.getFloat64(4, true);
  let offset = 12;
  const tensor = (): EncodedTensor => {
    need(offset, 1);
    const rank = view.getUint8(offset);
    offset += 1;
    need(offset, 4 * rank);
    const dims = Array.from({ length: rank }, (_, k) => view.getUint32(offset + 4 * k, true));
    offset += 4 * rank;
    const length = dims.reduce((product, dim) => product * dim, 1);
    need(offset, 4 * length);
    const data = new Float32Array(length);
    for (let i = 0; i < length; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    offset += 4 * length;
    return { dims, data };
  };
  const [ast, audio, frame, patches] = TENSORS.map(tensor) as [
    EncodedTensor,
    EncodedTensor,
    EncodedTensor,
    EncodedTensor,
  ];
  const stereo = magic === STEREO_MAGIC ? tensor() : undefined;
  if (offset !== bytes.byteLength)
    throw new Error(`feature record has ${bytes.byteLength - offset} bytes too many`);
  return { start, features: { ast, audio, frame, patches, ...(stereo && { stereo }) } };
}

/** The indices of the window of `size` segments ending at `last`, oldest first (none below 0). */
export function windowIndices(last: number, size: number): number[] {
  return Array.from({ length: size }, (_, k) => last - size + 1 + k).filter((i) => i >= 0);
}

export class FeatureStore {
  /** Records fetched from the bucket so far (what a window cache saves shows here). */
  reads = 0;

  private constructor(private readonly kv: KV) {}

  /** Opens (creating if need be) the bucket; segments older than `maxAgeSeconds` are dropped. */
  static async open(
    connection: NatsConnection,
    maxAgeSeconds = 120,
    bucket = FEATURES_BUCKET,
  ): Promise<FeatureStore> {
    const kv = await new Kvm(connection).create(bucket, {
      history: 1,
      storage: 'file',
      ttl: maxAgeSeconds * 1000,
    } as const);
    return new FeatureStore(kv);
  }

  async put(stream: string, segment: StoredSegment): Promise<void> {
    await this.kv.put(
      `${stream}.${segment.index}`,
      encodeFeatures(segment.start, segment.features),
    );
  }

  /**
   * These segments of a stream that the bucket holds (in the order asked), and those it lacks (not
   * encoded yet, or given up): the caller answers on what there is or waits.
   */
  async get(
    stream: string,
    indices: readonly number[],
  ): Promise<{ segments: StoredSegment[]; missing: number[] }> {
    const entries = await Promise.all(indices.map((i) => this.kv.get(`${stream}.${i}`)));
    this.reads += indices.length;
    const segments: StoredSegment[] = [];
    const missing: number[] = [];
    entries.forEach((entry, k) => {
      const index = indices[k]!;
      if (!entry || entry.operation !== 'PUT' || entry.length === 0)
        return void missing.push(index);
      try {
        segments.push({ index, ...decodeFeatures(entry.value) });
      } catch (error) {
        throw new Error(`${stream}.${index} in ${FEATURES_BUCKET}: ${(error as Error).message}`);
      }
    });
    return { segments, missing };
  }
}
