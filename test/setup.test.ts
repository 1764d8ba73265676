import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('set-up', () => {
  it('npm commands in the project print no warnings (no unknown project config)', () => {
    const result = spawnSync('npm', ['pkg', 'get', 'name'], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('"tutti"');
    expect(result.stderr).not.toMatch(/npm warn/i);
  });
});
