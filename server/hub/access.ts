/**
 * Who may read and who may control, and from where. Reading (answers, history, pictures,
 * questions, the WebSocket) needs the read token or the control token; adding and removing
 * questions and starting captures need the control token. Every request must name one of the
 * monitor's own host names in `Host` (DNS rebinding gets nowhere), and a browser's WebSocket must
 * come from the page's own origin or an allowed one (no cross-site reads). Tokens compare in
 * constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

export interface AccessOptions {
  readonly controlToken: string;
  /** Defaults to the control token. */
  readonly readToken?: string;
  /** Host names besides the machine's own (TUTTI_ALLOWED_HOSTS), e.g. a DNS name or proxy. */
  readonly allowedHosts?: readonly string[];
}

/** The WebSocket subprotocol carrying a token (browsers cannot set headers on a WebSocket). */
export const TOKEN_PROTOCOL_PREFIX = 'tutti-token.';
export const WS_PROTOCOL = 'tutti';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Equal strings, in time that does not depend on where they differ (or on their lengths). */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** The machine's own names: loopback, its host name, every interface address. */
function ownHostNames(): string[] {
  const addresses = Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).map((entry) => entry.address),
  );
  return ['localhost', '127.0.0.1', '::1', hostname(), ...addresses];
}

/** `Host`/`Origin` host part, lower case, without port or IPv6 brackets. */
export function hostPart(value: string): string {
  const host = value.trim().toLowerCase();
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  return host.replace(/:\d+$/, '');
}

export class AccessPolicy {
  private readonly hosts: Set<string>;

  constructor(private readonly options: AccessOptions) {
    this.hosts = new Set(
      [...ownHostNames(), ...(options.allowedHosts ?? [])].map((h) => hostPart(h)),
    );
  }

  hostAllowed(host: string | undefined): boolean {
    return host !== undefined && this.hosts.has(hostPart(host));
  }

  /** No Origin (not a browser), the page's own origin, or one on an allowed host. */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    try {
      const url = new URL(origin);
      return url.host === host || this.hostAllowed(url.host);
    } catch {
      return false;
    }
  }

  canControl(token: string | undefined): boolean {
    return tokenMatches(token, this.options.controlToken);
  }

  canRead(token: string | undefined): boolean {
    return (
      this.canControl(token) ||
      (this.options.readToken !== undefined && tokenMatches(token, this.options.readToken))
    );
  }

  /** The token a request carries: `Authorization: Bearer …`, or the WebSocket subprotocol. */
  static tokenOf(request: IncomingMessage): string | undefined {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (bearer) return bearer;
    const offered = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX));
    return (
      offered && Buffer.from(offered.slice(TOKEN_PROTOCOL_PREFIX.length), 'base64url').toString()
    );
  }
}
