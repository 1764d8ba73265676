/**
 * Triangular mel filterbanks on the HTK mel scale (1127 ln(1 + f/700)), stored sparsely: each
 * band keeps only its non-zero weights, so applying one costs a few dozen multiply-adds.
 */

export interface MelBand {
  /** First FFT bin with a non-zero weight. */
  readonly start: number;
  readonly weights: Float64Array;
}

export interface MelBankSpec {
  readonly melBins: number;
  readonly fftSize: number;
  readonly sampleRate: number;
  readonly lowHz: number;
  readonly highHz: number;
}

export function hertzToMel(hertz: number): number {
  return 1127 * Math.log(1 + hertz / 700);
}

/** Triangle with feet at `lower`/`upper` and peak at `center`, all in mel, sampled at binMels. */
function triangleBands(binMels: readonly number[], edges: readonly number[]): MelBand[] {
  const bands: MelBand[] = [];
  for (let band = 0; band + 2 < edges.length; band++) {
    const [lower, center, upper] = [edges[band]!, edges[band + 1]!, edges[band + 2]!];
    const dense = binMels.map((mel) =>
      Math.max(0, Math.min((mel - lower) / (center - lower), (upper - mel) / (upper - center))),
    );
    const start = dense.findIndex((weight) => weight > 0);
    const end = dense.length - [...dense].reverse().findIndex((weight) => weight > 0);
    bands.push(
      start < 0
        ? { start: 0, weights: new Float64Array(0) }
        : { start, weights: Float64Array.from(dense.slice(start, end)) },
    );
  }
  return bands;
}

function linspace(from: number, to: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}

/**
 * Kaldi's mel banks (torchaudio.compliance.kaldi.get_mel_banks without VTLN): bands evenly
 * spaced in mel between lowHz and highHz, over the FFT bins below Nyquist (the Nyquist bin gets
 * weight 0, as torchaudio pads it).
 */
export function kaldiMelBands({
  melBins,
  fftSize,
  sampleRate,
  lowHz,
  highHz,
}: MelBankSpec): MelBand[] {
  const binWidth = sampleRate / fftSize;
  const melLow = hertzToMel(lowHz);
  const delta = (hertzToMel(highHz) - melLow) / (melBins + 1);
  const edges = Array.from({ length: melBins + 2 }, (_, i) => melLow + i * delta);
  const binMels = Array.from({ length: fftSize / 2 }, (_, k) => hertzToMel(binWidth * k));
  return triangleBands(binMels, edges);
}

/**
 * VGGish's mel matrix (mel_features.spectrogram_to_mel_matrix): edges by linspace in mel between
 * lowHz and highHz, over all fftSize/2 + 1 bins, with the DC bin excluded.
 */
export function vggishMelBands({
  melBins,
  fftSize,
  sampleRate,
  lowHz,
  highHz,
}: MelBankSpec): MelBand[] {
  const binMels = linspace(0, sampleRate / 2, fftSize / 2 + 1).map(hertzToMel);
  binMels[0] = -Infinity; // mel_features zeroes the DC bin's weights
  const edges = linspace(hertzToMel(lowHz), hertzToMel(highHz), melBins + 2);
  return triangleBands(binMels, edges);
}

/** out[b] = Σ_k spectrum[k] · band_b[k]. */
export function applyMelBands(
  bands: readonly MelBand[],
  spectrum: Float64Array,
  out: Float64Array,
): void {
  for (let b = 0; b < bands.length; b++) {
    const { start, weights } = bands[b]!;
    let sum = 0;
    for (let k = 0; k < weights.length; k++) sum += spectrum[start + k]! * weights[k]!;
    out[b] = sum;
  }
}
