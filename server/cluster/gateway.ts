/**
 * The gateway role of a cluster (issue #13): the monitor's HTTP API and WebSocket hub, the same
 * dashboard, fed from the bus instead of a process's own streams. Every message any node
 * publishes reaches every gateway (an ordered consumer of the answer log), so a dashboard sees
 * every stream whichever gateway it connects to; standing-question changes arrive from the
 * bucket's watch, whichever gateway made them; a browser capture started here is ingested here
 * (capture-ingest.ts); alert rules are fired by the gateway holding the alerts lease.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import { AccessPolicy } from '../hub/access.js';
import { createHttpServer } from '../hub/http-server.js';
import { MonitorMetrics } from '../hub/metrics.js';
import { WsHub } from '../hub/ws-hub.js';
import { CaptureIngest } from './capture-ingest.js';
import { GatewayControl } from './gateway-control.js';
import { historyFromLog } from './log-history.js';
import { followMessages, MessagePublisher } from './message-bus.js';
import { ClusterAlerts } from './cluster-alerts.js';
import { Lease } from './lease.js';
import { AlertDispatcher } from '../alerts/alert-dispatcher.js';
import type { StandingKv } from './standing-kv.js';
import type { StreamDirectory } from './stream-directory.js';

export interface GatewayConfig {
  /** The node's name: the owner of the captures it ingests, in the stream directory. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The control token; reading needs `readToken` where one is set (access.ts). */
  readonly token: string;
  readonly readToken?: string;
  readonly allowedHosts?: readonly string[];
  /** Signs the alerts' webhooks (TUTTI_WEBHOOK_SECRET), as the single monitor does. */
  readonly webhookSecret?: string;
  /** Captures this gateway ingests at once. */
  readonly maxCaptures?: number;
  readonly log: (line: string) => void;
}

export class Gateway {
  readonly url: string;

  private constructor(
    private readonly http: Server,
    private readonly hub: WsHub,
    /** What to stop, in order, when the gateway stops. */
    private readonly stops: Array<() => unknown>,
  ) {
    const address = http.address() as AddressInfo;
    this.url = `http://${address.address}:${address.port}`;
  }

  static async start(
    connection: NatsConnection,
    standing: StandingKv,
    directory: StreamDirectory,
    config: GatewayConfig,
  ): Promise<Gateway> {
    const captures = await CaptureIngest.open(connection, directory, config);
    const control = new GatewayControl(standing, directory, {
      connected: () => !connection.isClosed(),
      history: (query) => historyFromLog(connection, query),
      log: config.log,
      startCapture: (stream, recording) => captures.start(stream, recording),
    });
    const access = new AccessPolicy({
      controlToken: config.token,
      ...(config.readToken ? { readToken: config.readToken } : {}),
      ...(config.allowedHosts ? { allowedHosts: config.allowedHosts } : {}),
    });
    // Answers, alerts and hop latency of every stream, as the bus carries them; the hub's and the
    // webhooks' counts.
    const dispatcher = new AlertDispatcher({
      ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
      log: config.log,
    });
    const metrics = new MonitorMetrics({
      streams: () => [],
      hub: () => hub.stats, // read when scraped, once the hub below exists
      webhooks: () => dispatcher.webhooks.stats,
    });
    const http = createHttpServer({ control, access, metrics });
    http.listen(config.port, config.host);
    await once(http, 'listening').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EADDRINUSE'
        ? new Error(
            `port ${config.port} on ${config.host} is in use; set TUTTI_PORT to a free port`,
          )
        : error;
    });
    const hub = new WsHub(http, control, { access });
    let known = control.listStreams().join(',');
    const publish = (message: ServerMessage) => {
      control.observe(message);
      metrics.observe(message);
      const streams = control.listStreams();
      if (streams.join(',') !== known) {
        known = streams.join(',');
        hub.publish({ type: 'streams', streams });
      }
      hub.publish(message);
    };
    // Alert rules: fired by whichever gateway holds the lease, onto the bus.
    const lease = await Lease.open(connection, 'alerts', config.name);
    const publisher = new MessagePublisher(connection);
    const alerts = new ClusterAlerts(
      standing,
      lease,
      dispatcher,
      (m) => publisher.publish(m),
      config.log,
    );
    lease.start((held) =>
      config.log(`${config.name}: ${held ? 'fires' : 'no longer fires'} the cluster's alerts`),
    );
    const follower = await followMessages(
      connection,
      (message) => {
        alerts.observe(message);
        publish(message);
      },
      config.log,
    );
    const unwatch = standing.onChange(publish);
    return new Gateway(http, hub, [
      () => follower.stop(),
      unwatch,
      () => alerts.close(),
      () => dispatcher.close(),
      () => lease.stop(),
      () => captures.stopAll(),
    ]);
  }

  async stop(): Promise<void> {
    for (const stop of this.stops) await stop();
    await this.hub.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
