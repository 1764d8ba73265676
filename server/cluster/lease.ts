/**
 * A lease on the bus: at most one holder at a time for a duty only one process may do (firing a
 * stream's alerts once, not once per gateway). A key in a JetStream key-value bucket whose entries
 * expire after `ttlMs`: `create` is refused while another holder's entry lives, the holder renews
 * it by compare-and-set every third of the TTL, and a holder that dies or loses the bus lets it
 * expire, after which another takes it.
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const LEASES_BUCKET = 'tutti-leases';

export class Lease {
  private revision = 0;
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly kv: KV,
    private readonly duty: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  static async open(
    connection: NatsConnection,
    duty: string,
    holder: string,
    ttlMs = 6000,
  ): Promise<Lease> {
    const kv = await new Kvm(connection).create(LEASES_BUCKET, {
      history: 1,
      ttl: ttlMs,
    } as const);
    return new Lease(kv, duty, holder, ttlMs);
  }

  /** Whether this process holds the duty now. */
  get held(): boolean {
    return this.revision > 0;
  }

  /** Tries to take or keep the lease now and every third of its TTL; says when that changes. */
  start(changed: (held: boolean) => void): void {
    const step = async () => {
      const before = this.held;
      try {
        this.revision = this.held
          ? await this.kv.update(this.duty, this.holder, this.revision)
          : await this.kv.create(this.duty, this.holder);
      } catch {
        this.revision = 0; // another holds it, or the bus is away
      }
      if (this.held !== before) changed(this.held);
    };
    void step();
    this.timer = setInterval(() => void step(), this.ttlMs / 3);
  }

  /** Gives the lease up at once, so another takes the duty without waiting for the TTL. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.held) await this.kv.delete(this.duty, { previousSeq: this.revision }).catch(() => {});
    this.revision = 0;
  }
}
