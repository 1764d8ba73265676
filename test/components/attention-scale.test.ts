/** Attention maps are drawn against the uniform weight, so a flat map reads as flat. */
import { describe, expect, it } from 'vitest';
import {
  barScale,
  peakTimesUniform,
  shadesAboveUniform,
  timesUniform,
} from '../../client/src/lib/attention-scale.js';

describe('attention scale', () => {
  it('reads each weight as a multiple of uniform', () => {
    expect(timesUniform([0.1, 0.2, 0.3, 0.4])).toEqual([0.4, 0.8, 1.2, 1.6]);
    expect(peakTimesUniform([0.1, 0.2, 0.3, 0.4])).toBeCloseTo(1.6);
    expect(peakTimesUniform([])).toBe(1);
  });

  it('tints only places above uniform, the peak fully, and nothing in a flat map', () => {
    const shades = shadesAboveUniform([0.1, 0.2, 0.3, 0.4]);
    expect(shades[0]).toBe(0);
    expect(shades[1]).toBe(0);
    expect(shades[2]).toBeCloseTo(1 / 3);
    expect(shades[3]).toBeCloseTo(1);
    expect(shadesAboveUniform([0.25, 0.25, 0.25, 0.25])).toEqual([0, 0, 0, 0]);
  });

  it('scales bars to the highest and puts uniform on the same scale', () => {
    const { heights, uniform } = barScale([0.1, 0.2, 0.3, 0.4]);
    expect(heights.map((h) => h.toFixed(2))).toEqual(['0.25', '0.50', '0.75', '1.00']);
    expect(uniform).toBeCloseTo(0.625);
    expect(barScale([]).uniform).toBe(0);
  });
});
