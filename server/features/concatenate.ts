/** Typed arrays one after another in one new array of the same kind (a batch from its items). */
export function concatenate<T extends Float32Array | Uint8Array>(
  parts: readonly T[],
  make: (length: number) => T,
): T {
  const out = make(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (out.set(part, offset), offset + part.length), 0);
  return out;
}

export const concatFloats = (parts: readonly Float32Array[]) =>
  concatenate(parts, (n) => new Float32Array(n));
export const concatBytes = (parts: readonly Uint8Array[]) =>
  concatenate(parts, (n) => new Uint8Array(n));
