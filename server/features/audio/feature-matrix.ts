/** Frames × bins of float32 features, row-major (one row per 10 ms frame). */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export function concatRows(parts: readonly FeatureMatrix[], cols: number): FeatureMatrix {
  const rows = parts.reduce((sum, part) => sum + part.rows, 0);
  const data = new Float32Array(rows * cols);
  let offset = 0;
  for (const part of parts) {
    data.set(part.data, offset);
    offset += part.data.length;
  }
  return { rows, cols, data };
}
