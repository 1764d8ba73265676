/** JSON over HTTP for the monitor's routes: errors that carry their status, bodies read with a bound. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorResponse } from '../../shared/protocol/questions.js';
import { AccessPolicy } from './access.js';

export const MAX_BODY_BYTES = 16 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorResponse,
  ) {
    super(body.error);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, { error: 'body is not JSON' });
  }
}

/** Refuses (401) a request that changes a stream's `what` without the control token. */
export function requireControl(request: IncomingMessage, access: AccessPolicy, what: string): void {
  if (!access.canControl(AccessPolicy.tokenOf(request)))
    throw new HttpError(401, {
      error: `adding and removing ${what} needs the access token (Authorization: Bearer …)`,
    });
}
