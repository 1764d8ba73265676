/** Creating a JetStream stream or durable consumer, or bringing an existing one's settings up to date. */
import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';

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

export async function ensureConsumer(
  manager: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
): Promise<void> {
  try {
    await manager.consumers.info(stream, config.durable_name);
  } catch {
    await manager.consumers.add(stream, config);
    return;
  }
  await manager.consumers.update(stream, config.durable_name, config);
}
