/** Reads a whole NumPy .npy file (format 1.x/2.x, C order, little-endian f4 / u1 / i8). */
import { readFile } from 'node:fs/promises';

export interface NpyArray {
  readonly shape: number[];
  readonly data: Float32Array | Uint8Array | BigInt64Array;
}

export async function readNpy(path: string): Promise<NpyArray> {
  const bytes = await readFile(path);
  if (bytes.subarray(0, 6).toString('latin1') !== '\x93NUMPY')
    throw new Error(`${path} is not a .npy file`);
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = bytes.subarray(major === 1 ? 10 : 12, start).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
  if (/'fortran_order':\s*True/.test(header))
    throw new Error(`${path}: Fortran order is not supported`);
  const body = bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.byteLength);
  switch (descr) {
    case '<f4':
      return { shape, data: new Float32Array(body) };
    case '|u1':
      return { shape, data: new Uint8Array(body) };
    case '<i8':
      return { shape, data: new BigInt64Array(body) };
    default:
      throw new Error(`${path}: unsupported dtype ${descr}`);
  }
}
