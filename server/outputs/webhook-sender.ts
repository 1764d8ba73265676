/**
 * Alerts as webhooks: an HTTP POST of the alert's JSON to each URL, signed with HMAC-SHA256 when
 * the monitor has a secret, retried with backoff. Each URL has its own bounded queue, delivered
 * in order; a receiver that is down or slow never holds answering up (the oldest waiting
 * deliveries are dropped, and counted, past the bound).
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface WebhookOptions {
  /** Signs deliveries: X-Tutti-Signature: sha256=hex(HMAC-SHA256(secret, `${timestamp}.${body}`)). */
  readonly secret?: string;
  /** Deliveries waiting per URL at most (default 500). */
  readonly maxQueue?: number;
  /** Attempts per delivery (default 6: after 1, 2, 4, 8, 16 s). */
  readonly maxAttempts?: number;
  readonly firstRetryMs?: number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** The signature a receiver recomputes to check a delivery came from this monitor. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface Delivery {
  readonly id: string;
  readonly body: string;
}

/** A status worth retrying: the receiver may take it later. */
const retryable = (status: number) => status >= 500 || status === 408 || status === 429;

export class WebhookSender {
  private readonly queues = new Map<string, Delivery[]>();
  private readonly busy = new Set<string>();
  private closed = false;
  readonly stats = { delivered: 0, failed: 0, dropped: 0 };

  constructor(private readonly options: WebhookOptions = {}) {}

  send(url: string, payload: unknown): void {
    if (this.closed) return;
    const queue = this.queues.get(url) ?? [];
    this.queues.set(url, queue);
    queue.push({ id: randomUUID(), body: JSON.stringify(payload) });
    if (queue.length > (this.options.maxQueue ?? 500)) {
      queue.shift();
      this.stats.dropped += 1;
    }
    void this.drain(url);
  }

  /** Delivers a URL's queue in order, one at a time. */
  private async drain(url: string): Promise<void> {
    if (this.busy.has(url)) return;
    this.busy.add(url);
    const queue = this.queues.get(url)!;
    while (queue.length > 0 && !this.closed) {
      const delivery = queue.shift()!; // in flight: no longer counts against the bound
      const outcome = await this.deliver(url, delivery);
      if (outcome === 'delivered') this.stats.delivered += 1;
      else {
        this.stats.failed += 1;
        this.options.log?.(`webhook ${url}: delivery ${delivery.id} given up: ${outcome}`);
      }
    }
    this.busy.delete(url);
  }

  private async deliver(url: string, delivery: Delivery): Promise<'delivered' | string> {
    const attempts = this.options.maxAttempts ?? 6;
    let wait = this.options.firstRetryMs ?? 1000;
    let reason = '';
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'tutti-monitor',
        'x-tutti-delivery': delivery.id,
        'x-tutti-timestamp': timestamp,
      };
      if (this.options.secret)
        headers['x-tutti-signature'] = webhookSignature(
          this.options.secret,
          timestamp,
          delivery.body,
        );
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers,
          body: delivery.body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        });
        await response.body?.cancel();
        if (response.ok) return 'delivered';
        reason = `HTTP ${response.status}`;
        if (!retryable(response.status)) return reason;
      } catch (error) {
        reason = (error as Error).message;
      }
      if (attempt < attempts) {
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
        wait *= 2;
      }
    }
    return `${reason} after ${attempts} attempts`;
  }

  close(): void {
    this.closed = true;
  }
}
