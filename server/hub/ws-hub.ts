/**
 * The WebSocket hub (`ws`): dashboards subscribe to streams and manage standing questions. Every
 * incoming message is validated against shared/protocol; control messages need the access token.
 * A slow dashboard never holds anyone up: what it cannot take waits in its own bounded queue, the
 * oldest dropped first and counted, and it is told how many it missed.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { QuestionParseError } from '../../shared/question-space/index.js';
import type { StreamControl } from './stream-control.js';
import { AccessPolicy, WS_PROTOCOL } from './access.js';
import {
  MAX_MEDIA_CHUNK_BYTES,
  MAX_MESSAGE_BYTES,
  clientMessageSchema,
  type ClientMessage,
  type ServerMessage,
} from '../../shared/protocol/messages.js';

export type { StreamControl } from './stream-control.js';

export interface HubOptions {
  /** Reading needs a read token; control messages the control token; see access.ts. */
  readonly access: AccessPolicy;
  /** Messages a dashboard may fall behind by before the oldest are dropped. */
  readonly queueLimit?: number;
  /** Socket backlog (bytes) above which messages wait in the dashboard's queue. */
  readonly backlogBytes?: number;
}

interface Client {
  readonly socket: WebSocket;
  readonly streams: Set<string>;
  readonly queue: string[];
  dropped: number;
  /** Where this connection's binary messages go once it started a capture. */
  capture?: Writable;
}

/** What the hub has done since it started, and how many dashboards it serves now. */
export interface HubStats {
  readonly clients: number;
  readonly sent: number;
  readonly dropped: number;
  readonly rejected: number;
}

export class WsHub {
  private readonly server: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly flusher: NodeJS.Timeout;
  private readonly counts = { sent: 0, dropped: 0, rejected: 0 };

  get stats(): HubStats {
    return { clients: this.clients.size, ...this.counts };
  }

  constructor(
    http: Server,
    private readonly control: StreamControl,
    private readonly options: HubOptions,
  ) {
    this.server = new WebSocketServer({
      server: http,
      path: '/ws',
      maxPayload: MAX_MEDIA_CHUNK_BYTES,
      // A foreign page (cross-site WebSocket, DNS rebinding) is refused before the upgrade.
      verifyClient: ({ origin, req }: { origin?: string; req: IncomingMessage }) =>
        options.access.hostAllowed(req.headers.host) &&
        options.access.originAllowed(origin, req.headers.host),
      // A browser offering the token as a subprotocol needs one named back.
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    });
    this.server.on('connection', (socket, request) => {
      // Upgraded, then closed with a reason a dashboard can show (a refused upgrade has none).
      if (!options.access.canRead(AccessPolicy.tokenOf(request)))
        return socket.close(4401, 'reading needs the access token');
      this.accept(socket);
    });
    this.flusher = setInterval(() => this.clients.forEach((client) => this.flush(client)), 50);
  }

  private accept(socket: WebSocket): void {
    const client: Client = { socket, streams: new Set(), queue: [], dropped: 0 };
    this.clients.add(client);
    this.send(client, { type: 'streams', streams: this.control.listStreams() });
    socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) return this.receiveMedia(client, data);
      if (data.length > MAX_MESSAGE_BYTES) return socket.close(1009, 'message too large');
      this.receive(client, data.toString());
    });
    const gone = () => {
      this.clients.delete(client);
      client.capture?.end();
    };
    socket.on('close', gone);
    socket.on('error', gone);
  }

  private receiveMedia(client: Client, data: Buffer): void {
    if (!client.capture) {
      this.counts.rejected += 1;
      return this.send(client, {
        type: 'error',
        message: 'binary messages are media for a capture: send capture-start first',
      });
    }
    if (client.capture.destroyed) {
      client.capture = undefined;
      return this.send(client, { type: 'error', message: 'the capture has stopped' });
    }
    // A recording arrives faster than it is played: stop reading the socket until ffmpeg has
    // taken what is buffered, so the browser waits instead of the monitor's memory filling up.
    if (!client.capture.write(data)) {
      const resume = () => client.socket.resume();
      client.socket.pause();
      client.capture.once('drain', resume).once('close', resume);
    }
  }

  private receive(client: Client, text: string): void {
    let message: ClientMessage;
    try {
      const parsed = clientMessageSchema.safeParse(JSON.parse(text));
      if (!parsed.success)
        throw new Error(
          `invalid message: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ')}`,
        );
      message = parsed.data;
    } catch (error) {
      this.counts.rejected += 1;
      return this.send(client, {
        type: 'error',
        message: error instanceof SyntaxError ? 'message is not JSON' : (error as Error).message,
      });
    }
    if (message.type === 'capture-start') return this.startCapture(client, message);
    if (message.type === 'capture-end') {
      if (!client.capture)
        return this.send(client, { type: 'error', message: 'this connection is not capturing' });
      client.capture.end();
      client.capture = undefined; // free for another capture
      return;
    }
    if (!this.control.hasStream(message.stream))
      return this.send(client, { type: 'error', message: `no stream "${message.stream}"` });
    switch (message.type) {
      case 'subscribe':
        client.streams.add(message.stream);
        return this.control.snapshot(message.stream).forEach((m) => this.send(client, m));
      case 'unsubscribe':
        client.streams.delete(message.stream);
        return;
      case 'add-question':
      case 'remove-question':
        if (!this.options.access.canControl(message.token))
          return this.send(client, {
            type: 'error',
            message: 'control messages need the access token',
          });
        try {
          if (message.type === 'add-question')
            this.control.addQuestion(message.stream, message.question, message.values ?? []);
          else if (!this.control.removeQuestion(message.stream, message.questionId)) {
            return this.send(client, {
              type: 'error',
              message: `no question "${message.questionId}" on stream "${message.stream}"`,
            });
          }
        } catch (error) {
          const nearest =
            error instanceof QuestionParseError ? error.nearestTemplates() : undefined;
          return this.send(client, {
            type: 'error',
            message: (error as Error).message,
            ...(nearest ? { nearest } : {}),
          });
        }
    }
  }

  private startCapture(
    client: Client,
    { stream, token, recording }: Extract<ClientMessage, { type: 'capture-start' }>,
  ): void {
    if (!this.options.access.canControl(token))
      return this.send(client, {
        type: 'error',
        message: 'control messages need the access token',
      });
    if (client.capture)
      return this.send(client, { type: 'error', message: 'this connection is already capturing' });
    try {
      client.capture = this.control.startCapture(
        stream,
        recording ? { speed: recording.speed ?? 1 } : undefined,
      );
      // Writing after the stream stopped is answered above, not thrown.
      client.capture.on('error', () => undefined);
      client.streams.add(stream);
      this.control.snapshot(stream).forEach((m) => this.send(client, m));
    } catch (error) {
      this.send(client, { type: 'error', message: (error as Error).message });
    }
  }

  /** Sends to every dashboard subscribed to the message's stream (or to all, for stream-less ones). */
  publish(message: ServerMessage): void {
    const stream = 'stream' in message ? message.stream : undefined;
    const text = JSON.stringify(message);
    for (const client of this.clients)
      if (!stream || client.streams.has(stream)) this.enqueue(client, text);
  }

  private send(client: Client, message: ServerMessage): void {
    this.enqueue(client, JSON.stringify(message));
  }

  private enqueue(client: Client, text: string): void {
    client.queue.push(text);
    const limit = this.options.queueLimit ?? 256;
    while (client.queue.length > limit) {
      client.queue.shift();
      client.dropped += 1;
      this.counts.dropped += 1;
    }
    this.flush(client);
  }

  private flush(client: Client): void {
    const backlog = this.options.backlogBytes ?? 1 << 20;
    if (client.socket.readyState !== client.socket.OPEN) return;
    if (client.dropped > 0 && client.socket.bufferedAmount < backlog) {
      client.socket.send(
        JSON.stringify({ type: 'dropped', count: client.dropped } satisfies ServerMessage),
      );
      client.dropped = 0;
    }
    while (client.queue.length > 0 && client.socket.bufferedAmount < backlog) {
      client.socket.send(client.queue.shift()!);
      this.counts.sent += 1;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.flusher);
    for (const client of this.clients) client.socket.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
