/**
 * Writes NumPy .npy files (format 1.0) row block by row block, so large feature arrays never sit
 * in memory whole. Python reads them with numpy.load (memory-mapped if wanted).
 */
import { open, type FileHandle } from 'node:fs/promises';

type Typed = Float32Array | Uint8Array | Int32Array | BigInt64Array;
const DESCR = new Map<string, string>([
  ['Float32Array', '<f4'],
  ['Uint8Array', '|u1'],
  ['Int32Array', '<i4'],
  ['BigInt64Array', '<i8'],
]);

export function npyHeader(descr: string, shape: readonly number[]): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + length (2) + dict, padded with spaces and a newline to 64 bytes.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + header.length);
  bytes.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(Buffer.from(header, 'latin1'), 10);
  return bytes;
}

export class NpyWriter {
  private written = 0;

  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    private readonly total: number,
  ) {}

  static async create(
    path: string,
    kind: Typed['constructor']['name'],
    shape: readonly number[],
  ): Promise<NpyWriter> {
    const descr = DESCR.get(kind);
    if (!descr) throw new Error(`no .npy type for ${kind}`);
    const file = await open(path, 'w');
    await file.write(npyHeader(descr, shape));
    return new NpyWriter(
      file,
      path,
      shape.reduce((a, b) => a * b, 1),
    );
  }

  async append(values: Typed): Promise<void> {
    this.written += values.length;
    if (this.written > this.total)
      throw new Error(`${this.path}: more values than its shape holds`);
    await this.file.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  async close(): Promise<void> {
    await this.file.close();
    if (this.written !== this.total)
      throw new Error(`${this.path}: wrote ${this.written} of ${this.total} values`);
  }
}
