/** The inference worker's watchdog, on workers that die or hang (injected, not simulated). */
import { describe, expect, it } from 'vitest';
import { InferenceClient, type InferenceHealth } from '../server/encoders/inference-client.js';

const misbehaving = (variant: 'die' | 'hang', hungAfterMs = 30_000) => {
  const changes: InferenceHealth[] = [];
  const started = InferenceClient.start(
    { profile: 'none', variant },
    {
      workerUrl: new URL('./support/misbehaving-worker.mjs', import.meta.url),
      hungAfterMs,
      onHealth: (health) => changes.push(health),
    },
  );
  return { started, changes };
};
const frame = { width: 2, height: 2, data: new Uint8Array(12) };

async function until(condition: () => boolean) {
  for (let k = 0; k < 200 && !condition(); k++)
    await new Promise((resolve) => setTimeout(resolve, 25));
  expect(condition()).toBe(true);
}

describe('inference worker watchdog', () => {
  it('restarts a worker that died, failing what it held, refusing requests meanwhile', async () => {
    const { started, changes } = misbehaving('die');
    const client = await started;
    await expect(client.encode(new Float32Array(16_000), frame)).rejects.toThrow(
      /inference worker restarted: it exited \(3\)/,
    );
    expect(client.status()).toMatchObject({ state: 'restarting', restarts: 1 });
    await expect(client.answer({} as never, [])).rejects.toThrow(/restarting/);
    await until(() => client.status().state === 'ready');
    expect(changes.map((c) => c.state)).toEqual(['restarting', 'ready']);
    await client.close();
  });

  it('restarts a worker that holds a request past the deadline', async () => {
    const { started } = misbehaving('hang', 300);
    const client = await started;
    const before = performance.now();
    await expect(client.encode(new Float32Array(16_000), frame)).rejects.toThrow(
      /it held a request over 0.3 s/,
    );
    expect(performance.now() - before).toBeLessThan(3000);
    await until(() => client.status().state === 'ready');
    expect(client.status().restarts).toBe(1);
    await client.close();
  });
});
