/**
 * Where a fired alert goes besides the dashboards and the log: its rule's webhooks (signed, retried,
 * bounded: webhook-sender.ts) and OSC targets — the rule's own and the stream's.
 */
import type { AlertMessage, RuleMessage } from '../../shared/protocol/rules.js';
import { OscOutput } from '../outputs/osc-output.js';
import { WebhookSender, type WebhookOptions } from '../outputs/webhook-sender.js';

export class AlertDispatcher {
  readonly webhooks: WebhookSender;
  /** One OSC output per URL a rule names, made when first used. */
  private readonly osc = new Map<string, OscOutput>();
  private readonly log: (line: string) => void;

  constructor(options: WebhookOptions & { log: (line: string) => void }) {
    this.webhooks = new WebhookSender(options);
    this.log = options.log;
  }

  dispatch(rule: RuleMessage, alert: AlertMessage): void {
    for (const url of rule.webhooks) this.webhooks.send(url, alert);
    for (const url of rule.osc) {
      let output = this.osc.get(url);
      if (!output) this.osc.set(url, (output = new OscOutput([{ url }], this.log)));
      output.send(alert);
    }
  }

  close(): void {
    this.webhooks.close();
    for (const output of this.osc.values()) output.close();
  }
}
