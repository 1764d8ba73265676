/**
 * The lease that makes one gateway fire the cluster's alerts (lease.ts), on a real nats-server:
 * one holder at a time; given up, it passes on at once; a holder that loses the bus loses it
 * after the TTL, and another takes it.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lease } from '../server/cluster/lease.js';
import { NatsServer } from './support/nats-server.js';
import { until } from './support/until.js';

describe('a lease on the bus', () => {
  let server: NatsServer;
  const connections: NatsConnection[] = [];

  beforeAll(async () => {
    server = await NatsServer.start();
  });
  afterAll(async () => {
    for (const c of connections) if (!c.isClosed()) await c.close();
    await server?.stop();
  });

  const holder = async (name: string, duty: string) => {
    const connection = await server.connectRole(name);
    connections.push(connection);
    const lease = await Lease.open(connection, duty, name, 900);
    const changes: boolean[] = [];
    lease.start((held) => changes.push(held));
    return { lease, connection, changes };
  };

  it('has one holder at a time, and passes on when given up', async () => {
    const a = await holder('a', 'duty-1');
    await until(() => a.lease.held, 'a holds it');
    const b = await holder('b', 'duty-1');
    await new Promise((resolve) => setTimeout(resolve, 1500)); // several renewals and tries
    expect([a.lease.held, b.lease.held]).toEqual([true, false]);
    await a.lease.stop();
    await until(() => b.lease.held, 'b takes it', 2000);
    expect(a.changes).toEqual([true]);
    expect(b.changes).toEqual([true]);
    await b.lease.stop();
  });

  it('passes from a holder that lost the bus after the TTL', async () => {
    const a = await holder('c', 'duty-2');
    await until(() => a.lease.held, 'c holds it');
    const b = await holder('d', 'duty-2');
    await a.connection.close(); // as if it died: nothing renews, nothing gives it up
    const since = Date.now();
    await until(() => b.lease.held, 'd takes it', 5000);
    expect(Date.now() - since).toBeGreaterThan(200);
    await b.lease.stop();
    await a.lease.stop();
  });
});
