/**
 * One role's connection to NATS: reconnects by itself for as long as the process lives (a
 * restarted nats-server is found again), and says so in the log as it loses and finds the bus.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { ClusterConfig } from './cluster-config.js';

export async function connectToBus(
  config: ClusterConfig,
  name: string,
  log: (line: string) => void,
): Promise<NatsConnection> {
  const connection = await connect({
    servers: config.servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...(config.credsFile && { authenticator: credsAuthenticator(readFileSync(config.credsFile)) }),
    ...(config.user && { user: config.user, pass: config.pass }),
    ...(config.token && { token: config.token }),
    ...(config.tls && { tls: config.tls }),
  }).catch((error: Error) => {
    // Once connected it reconnects for ever; a bus never reached is a mistake to name at start.
    throw new Error(
      `cannot reach NATS at ${config.servers.join(', ')} (TUTTI_NATS_URL): ${error.message}`,
    );
  });
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') log(`${name}: lost the bus (${config.servers.join(', ')})`);
      else if (status.type === 'reconnect') log(`${name}: back on the bus`);
    }
  })();
  return connection;
}
