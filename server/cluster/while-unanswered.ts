/**
 * JetStream can go unanswered for seconds — its server restarting and reading its streams back
 * from disk, or stalled — and a request then times out (or finds no responder) though nothing is
 * wrong with it. Writes that are safe to repeat (a KV put of the whole value; a publish carrying
 * its message id, or a whole state) are tried again, the last failure thrown.
 */
const TRIES = 4;
const RETRY_WAIT_MS = 500; // times the try: 0.5 + 1 + 1.5 s between four 5 s requests, about 20 s
const UNANSWERED = new Set(['TimeoutError', 'JetStreamNotEnabled']);

export async function whileUnanswered<R>(attempt: () => Promise<R>): Promise<R> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (tried >= TRIES || !(error instanceof Error && UNANSWERED.has(error.name))) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_WAIT_MS * tried));
    }
  }
}
