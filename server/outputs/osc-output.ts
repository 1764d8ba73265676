/**
 * Open Sound Control out, to a lighting/sound desk, QLab, TouchDesigner, Max…: per answer and
 * per answer change, one OSC message (encoded by node-osc) to each target configured for the
 * stream, over UDP or TCP (OSC 1.1 framing: SLIP). A target that is down never holds answering
 * up: UDP is fire-and-forget; a TCP target is reconnected with backoff while a bounded queue
 * waits (oldest dropped and counted).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Socket } from 'node:net';
import { Message, encode } from 'node-osc';
import type { ServerMessage } from '../../shared/protocol/messages.js';

export interface OscTarget {
  /** `udp://host:port` or `tcp://host:port`. */
  readonly url: string;
  /** Streams whose answers go there (default: all). */
  readonly streams?: readonly string[];
  /** Address pattern; `{stream}` and `{questionId}` are filled in. Changes get `/change` after it. */
  readonly address?: string;
  /** What is sent (default both): every answer, or only answer changes. */
  readonly send?: 'answers' | 'changes' | 'both';
}

export const DEFAULT_OSC_ADDRESS = '/tutti/{stream}/{questionId}';
/** Messages a TCP target that is down may fall behind by. */
const TCP_QUEUE = 1000;

/** The OSC message for an answer, a change or an alert (undefined for other messages). */
export function oscMessage(
  message: ServerMessage,
  pattern = DEFAULT_OSC_ADDRESS,
): Message | undefined {
  if (message.type === 'alert')
    // rule name, what happened, when it fired (UTC, ISO 8601)
    return new Message(
      `/tutti/${message.stream}/alert/${message.ruleId}`,
      message.name,
      message.description,
      new Date(message.at).toISOString(),
    );
  if (message.type !== 'answer' && message.type !== 'answer-change') return undefined;
  const address = pattern
    .replaceAll('{stream}', message.stream)
    .replaceAll('{questionId}', message.questionId);
  const float = (value: number) => ({ type: 'f', value });
  if (message.type === 'answer')
    // answer, confidence, whether it changed (1/0), when its audio ended (UTC, ISO 8601)
    return new Message(
      address,
      message.answer,
      float(message.confidence),
      { type: 'i', value: message.changed ? 1 : 0 },
      new Date(message.audioEndedAt).toISOString(),
    );
  // previous answer ('' for the first), new answer, confidence, when (UTC, ISO 8601)
  return new Message(
    `${address}/change`,
    message.from ?? '',
    message.to,
    float(message.confidence),
    new Date(message.at).toISOString(),
  );
}

/** SLIP framing (RFC 1055, double-ended as OSC 1.1 asks) of one packet for a TCP stream. */
export function slipEncode(packet: Uint8Array): Buffer {
  const bytes: number[] = [0xc0];
  for (const byte of packet) {
    if (byte === 0xc0) bytes.push(0xdb, 0xdc);
    else if (byte === 0xdb) bytes.push(0xdb, 0xdd);
    else bytes.push(byte);
  }
  bytes.push(0xc0);
  return Buffer.from(bytes);
}

interface Endpoint {
  send(packet: Buffer): void;
  close(): void;
}

function parseTarget(url: string): { protocol: 'udp' | 'tcp'; host: string; port: number } {
  const match = /^(udp|tcp):\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url);
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535)
    throw new Error(`OSC target "${url}" is not udp://host:port or tcp://host:port`);
  return {
    protocol: match[1] as 'udp' | 'tcp',
    host: match[2]!.replace(/^\[|\]$/g, ''),
    port,
  };
}

function udpEndpoint(host: string, port: number, log: (line: string) => void): Endpoint {
  const socket: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.unref();
  let failing = false;
  return {
    send: (packet) =>
      socket.send(packet, port, host, (error) => {
        if (error && !failing) log(`OSC udp://${host}:${port}: ${error.message}`);
        failing = !!error;
      }),
    close: () => socket.close(),
  };
}

/** A TCP connection kept open, reconnected 0.5 s … 10 s after it drops. */
function tcpEndpoint(
  host: string,
  port: number,
  log: (line: string) => void,
  stats: { dropped: number },
): Endpoint {
  const queue: Buffer[] = [];
  let socket: Socket | undefined;
  let connected = false;
  let closed = false;
  let wait = 500;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    while (connected && socket && queue.length > 0) socket.write(queue.shift()!);
  };
  const connect = () => {
    const next = new Socket();
    socket = next;
    next.setNoDelay(true);
    next.connect(port, host, () => {
      connected = true;
      wait = 500;
      log(`OSC tcp://${host}:${port}: connected`);
      flush();
    });
    next.on('error', () => {}); // 'close' follows: reconnect there
    next.on('close', () => {
      if (connected) log(`OSC tcp://${host}:${port}: connection lost; reconnecting`);
      connected = false;
      if (closed) return;
      timer = setTimeout(connect, wait);
      timer.unref();
      wait = Math.min(10_000, wait * 2);
    });
    next.unref();
  };
  connect();
  return {
    send(packet) {
      queue.push(slipEncode(packet));
      if (queue.length > TCP_QUEUE) {
        queue.shift();
        stats.dropped += 1;
      }
      flush();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.destroy();
    },
  };
}

export class OscOutput {
  private readonly endpoints: Array<{ target: OscTarget; endpoint: Endpoint }>;
  /** Messages dropped because a TCP target was down too long. */
  readonly stats = { sent: 0, dropped: 0 };

  constructor(targets: readonly OscTarget[], log: (line: string) => void = () => {}) {
    this.endpoints = targets.map((target) => {
      const { protocol, host, port } = parseTarget(target.url);
      const endpoint =
        protocol === 'udp'
          ? udpEndpoint(host, port, log)
          : tcpEndpoint(host, port, log, this.stats);
      return { target, endpoint };
    });
  }

  /** Sends an answer or a change to every target that wants it, an alert to all of the stream's. */
  send(message: ServerMessage): void {
    if (message.type !== 'answer' && message.type !== 'answer-change' && message.type !== 'alert')
      return;
    for (const { target, endpoint } of this.endpoints) {
      if (target.streams && !target.streams.includes(message.stream)) continue;
      const wanted = target.send ?? 'both';
      if (
        message.type !== 'alert' &&
        wanted !== 'both' &&
        (wanted === 'answers') !== (message.type === 'answer')
      )
        continue;
      endpoint.send(encode(oscMessage(message, target.address)));
      this.stats.sent += 1;
    }
  }

  close(): void {
    for (const { endpoint } of this.endpoints) endpoint.close();
  }
}
