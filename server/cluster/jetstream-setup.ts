/** Creating a JetStream stream, or bringing an existing one's settings up to date. */
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';

export async function ensureStream(
  manager: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    await manager.streams.info(config.name);
  } catch {
    await manager.streams.add(config);
    return;
  }
  await manager.streams.update(config.name, config);
}
