/**
 * Alert rules on a cluster: rules live in the standing bucket with the questions; whichever
 * gateway holds the `alerts` lease evaluates them on every answer of every stream it follows, and
 * its alerts go on the bus (every dashboard sees them) and to each rule's webhooks and OSC. A
 * stream counts as live while its answers keep coming (the ingest node's source state is not on
 * the bus). When the lease moves to another gateway, the rules' episodes start afresh there.
 */
import type { AnswerMessage, ServerMessage } from '../../shared/protocol/messages.js';
import type { AlertMessage, RuleMessage } from '../../shared/protocol/rules.js';
import type { AlertDispatcher } from '../alerts/alert-dispatcher.js';
import { StreamRules } from '../alerts/stream-rules.js';
import type { Lease } from './lease.js';
import type { StandingKv } from './standing-kv.js';

/** No answer for this long and a stream is taken as not live. */
const SILENT_MS = 3000;

export class ClusterAlerts {
  private readonly rules = new Map<string, { stored: string; rules: StreamRules }>();
  private readonly lastAnswer = new Map<string, number>();
  private readonly clock: NodeJS.Timeout;

  constructor(
    private readonly standing: StandingKv,
    private readonly lease: Lease,
    private readonly dispatcher: AlertDispatcher,
    private readonly publish: (message: ServerMessage) => Promise<unknown>,
    private readonly log: (line: string) => void,
  ) {
    // Each second, rules on whether each stream is live (as the single monitor's source state).
    this.clock = setInterval(() => {
      if (!this.lease.held) return;
      const now = Date.now();
      for (const stream of this.standing.streams()) {
        const live = now - (this.lastAnswer.get(stream) ?? 0) < SILENT_MS;
        for (const alert of this.rulesOf(stream).observeState(live, now)) this.fire(alert);
      }
    }, 1000);
  }

  /** Every message the gateway follows: answers go through the stream's rules. */
  observe(message: ServerMessage): void {
    if (message.type !== 'answer') return;
    this.lastAnswer.set(message.stream, Date.now());
    if (!this.lease.held) return;
    for (const alert of this.rulesOf(message.stream).observeAnswer(message as AnswerMessage))
      this.fire(alert);
  }

  close(): void {
    clearInterval(this.clock);
  }

  /** The stream's rules as stored, rebuilt (episodes afresh) when they change. */
  private rulesOf(stream: string): StreamRules {
    const stored = this.standing.latest(stream, 'rules')?.rules ?? [];
    const key = JSON.stringify(stored);
    const held = this.rules.get(stream);
    if (held?.stored === key) return held.rules;
    const rules = ruleSet(stream, this.standing, stored);
    this.rules.set(stream, { stored: key, rules });
    return rules;
  }

  private fire(alert: AlertMessage): void {
    this.log(`stream ${alert.stream}: alert ${alert.ruleId} (${alert.name}): ${alert.description}`);
    this.publish(alert).catch((error: Error) =>
      this.log(`alert ${alert.ruleId} of ${alert.stream} not on the bus: ${error.message}`),
    );
    const rule = this.rules
      .get(alert.stream)
      ?.rules.list()
      .find((r: RuleMessage) => r.id === alert.ruleId);
    if (rule) this.dispatcher.dispatch(rule, alert);
  }
}

/** A stream's rules as stored, checked against its standing questions. */
export function ruleSet(
  stream: string,
  standing: StandingKv,
  stored: readonly RuleMessage[],
): StreamRules {
  const questions = () => standing.latest(stream, 'questions')?.questions ?? [];
  const rules = new StreamRules(stream, (id) => questions().some((q) => q.id === id));
  rules.restore(stored);
  return rules;
}
