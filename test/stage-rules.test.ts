import { describe, expect, it } from 'vitest';
import { runPython } from './support/run-cli.js';

// StageRules (models/qstar/model.py) answers by rule on thresholded readouts; this stage has
// known answers for every rule (first / k-th to come in, loudest, neighbours, before / after,
// comparisons by third and by class, at the same time, the eight counts), and look-alikes told
// apart by ear.
describe('StageRules: every rule on a stage with known answers', () => {
  it('answers each rule as a musician would', async () => {
    const { stdout } = await runPython(['models/qstar/check_stage_rules.py']);
    expect(stdout).toContain('every rule answers as a musician would');
  }, 60_000);
});
