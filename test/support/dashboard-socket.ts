/** A dashboard's WebSocket to a monitor or gateway: every message it is sent, validated. */
import WebSocket from 'ws';
import { serverMessageSchema, type ServerMessage } from '../../shared/protocol/messages.js';

export interface Dashboard {
  readonly messages: ServerMessage[];
  send(message: unknown): void;
  /** A chunk of a capture's media (a binary message). */
  sendMedia(chunk: Buffer): void;
  /** Called with each message as it arrives. */
  onMessage(listener: (message: ServerMessage) => void): void;
  close(): void;
}

export async function connectDashboard(url: string, token: string): Promise<Dashboard> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const messages: ServerMessage[] = [];
  const listeners: Array<(message: ServerMessage) => void> = [];
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = serverMessageSchema.parse(JSON.parse(data.toString()));
    messages.push(message);
    for (const listener of listeners) listener(message);
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return {
    messages,
    send: (message) => socket.send(JSON.stringify(message)),
    sendMedia: (chunk) => socket.send(chunk),
    onMessage: (listener) => void listeners.push(listener),
    close: () => socket.close(),
  };
}
