/** Power or magnitude spectrum of a real frame zero-padded to a power of two (fft.js). */
import FFT from 'fft.js';

export class RealSpectrum {
  private readonly fft: FFT;
  private readonly padded: Float64Array;
  private readonly complex: number[];
  /** Bins 0 … size/2 of the last transform. */
  readonly bins: Float64Array;

  constructor(readonly size: number) {
    this.fft = new FFT(size);
    this.padded = new Float64Array(size);
    this.complex = this.fft.createComplexArray() as number[];
    this.bins = new Float64Array(size / 2 + 1);
  }

  /** |X_k|² (squared = true) or |X_k| of the frame, zero-padded to `size`. */
  compute(frame: Float64Array, squared: boolean): Float64Array {
    this.padded.set(frame);
    this.padded.fill(0, frame.length);
    this.fft.realTransform(this.complex, this.padded);
    const { complex, bins } = this;
    for (let k = 0; k < bins.length; k++) {
      const power = complex[2 * k]! ** 2 + complex[2 * k + 1]! ** 2;
      bins[k] = squared ? power : Math.sqrt(power);
    }
    return bins;
  }
}

/** Smallest power of two ≥ n (Kaldi's round_to_power_of_two, numpy's 2**ceil(log2 n)). */
export function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}
