/**
 * Alert rules and webhooks: episodes fire once, after their seconds, outside the cool-down and
 * inside the schedule; webhooks are signed, retried and bounded against a real HTTP receiver; a
 * live monitor fires a rule added over HTTP, delivers it, and keeps its rules across a restart.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnswerMessage } from '../shared/protocol/messages.js';
import type { AlertMessage, RuleMessage } from '../shared/protocol/rules.js';
import { RuleError, StreamRules } from '../server/alerts/stream-rules.js';
import { WebhookSender } from '../server/outputs/webhook-sender.js';
import { REPO_ROOT } from './support/musicavqa.js';
import { closedAfterEach, until } from './support/until.js';
import { demoStream, startLiveMonitor, type LiveMonitor } from './support/live-monitor.js';

const T0 = Date.UTC(2026, 10, 25, 20, 0, 0);
const answer = (text: string, second: number, confidence = 0.9): AnswerMessage =>
  ({
    type: 'answer',
    stream: 'stage',
    questionId: 'q1',
    sentence: 'Is there a violin sound?',
    questionType: 'Audio/Counting',
    answer: text,
    confidence,
    alternatives: [],
    window: { start: 0, end: 10 },
    latencyMs: 20,
    audioEndedAt: T0 + second * 1000,
    changed: false,
    attention: { frequency: [], temporal: [], spatial: [], patchGrid: [1, 8] },
  }) satisfies AnswerMessage;

const rulesOn = () => new StreamRules('stage', (id) => id === 'q1');
/** Feeds one answer per second; returns at which seconds alerts fired. */
const fired = (rules: StreamRules, answers: Array<[string, number?]>) =>
  answers.flatMap(([text, confidence], second) =>
    rules.observeAnswer(answer(text, second, confidence)).map(() => second),
  );

describe('alert rules', () => {
  it('"stays X for N s" fires once per episode, when it has lasted N s', () => {
    const rules = rulesOn();
    rules.add({
      questionId: 'q1',
      condition: { kind: 'answer-stays', answer: 'no', seconds: 3 },
      cooldownSeconds: 0,
    });
    // no from 0 s: fires at 3 s, not again; yes at 6 s ends it; no from 7 s fires at 10 s.
    const answers: Array<[string]> = 'no no no no no no yes no no no no no'
      .split(' ')
      .map((a) => [a]);
    expect(fired(rules, answers)).toEqual([3, 10]);
  });

  it('keeps quiet for an episode that lasts its seconds within the cool-down', () => {
    const rules = rulesOn();
    rules.add({
      questionId: 'q1',
      condition: { kind: 'answer-becomes', answer: 'yes' },
      cooldownSeconds: 5,
    });
    // yes at 0 (fires), 2 (within 5 s: quiet), 6 (fires again).
    expect(fired(rules, [['yes'], ['no'], ['yes'], ['no'], ['no'], ['no'], ['yes']])).toEqual([
      0, 6,
    ]);
  });

  it('fires on low confidence that lasts, and describes what happened', () => {
    const rules = rulesOn();
    rules.add({
      name: 'unsure about the violin',
      questionId: 'q1',
      condition: { kind: 'confidence-below', confidence: 0.6, seconds: 2 },
    });
    const alerts = [0.9, 0.5, 0.4, 0.3].flatMap((c, s) => rules.observeAnswer(answer('yes', s, c)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      type: 'alert',
      stream: 'stage',
      ruleId: 'r1',
      name: 'unsure about the violin',
      description: '"Is there a violin sound?" has been answered with confidence below 0.6 for 2 s',
      since: T0 + 1000,
      at: T0 + 3000,
      answer: 'yes',
      confidence: 0.3,
    });
  });

  it('is armed only inside its schedule', () => {
    const rules = rulesOn();
    rules.add({
      questionId: 'q1',
      condition: { kind: 'answer-stays', answer: 'no', seconds: 1 },
      schedule: [
        { from: new Date(T0 + 5000).toISOString(), to: new Date(T0 + 9000).toISOString() },
      ],
    });
    // "no" throughout; armed from 5 s: the episode starts there and fires at 6 s.
    expect(
      fired(
        rules,
        Array.from({ length: 12 }, (): [string] => ['no']),
      ),
    ).toEqual([6]);
  });

  it('fires when the source has not been live for N s', () => {
    const rules = rulesOn();
    rules.add({ condition: { kind: 'stream-not-live', seconds: 2 }, cooldownSeconds: 0 });
    const states = [true, false, false, false, true, false, false, false];
    const at = states.flatMap((live, s) => rules.observeState(live, T0 + s * 1000).map(() => s));
    expect(at).toEqual([3, 7]);
  });

  it('refuses rules it cannot watch, with the reason', () => {
    const rules = rulesOn();
    expect(() => rules.add({ condition: { kind: 'answer-becomes', answer: 'yes' } })).toThrow(
      /questionId: a rule on answers needs the questionId/,
    );
    expect(() =>
      rules.add({ questionId: 'q9', condition: { kind: 'answer-becomes', answer: 'yes' } }),
    ).toThrow(new RuleError('no standing question "q9" on stream "stage"'));
    expect(() =>
      rules.add({
        questionId: 'q1',
        condition: { kind: 'answer-stays', answer: 'no', seconds: -1 },
      } as never),
    ).toThrow(/condition\.seconds/);
    expect(() =>
      rules.add({
        questionId: 'q1',
        condition: { kind: 'answer-becomes', answer: 'yes' },
        webhooks: ['ftp://x'],
      }),
    ).toThrow(/webhooks/);
    expect(rules.list()).toEqual([]);
  });

  it('restores logged rules with their ids, and numbers new ones after them', () => {
    const rules = rulesOn();
    const logged: RuleMessage = {
      id: 'r7',
      name: 'x',
      questionId: 'q1',
      condition: { kind: 'answer-becomes', answer: 'yes' },
      cooldownSeconds: 60,
      webhooks: [],
      osc: [],
    };
    rules.restore([logged]);
    expect(
      rules.add({ questionId: 'q1', condition: { kind: 'answer-becomes', answer: 'no' } }).id,
    ).toBe('r8');
    expect(rules.list().map((r) => r.id)).toEqual(['r7', 'r8']);
  });
});

/** An HTTP receiver answering with the statuses given, in turn (then 200). */
async function receiver(statuses: number[] = []) {
  const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { received, url, close: () => new Promise((resolve) => server.close(resolve)) };
}

const closers = closedAfterEach();

describe('webhooks', () => {
  it('POSTs the JSON with an HMAC-SHA256 signature over the timestamp and body', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const sender = new WebhookSender({ secret: 'shared-secret' });
    sender.send(hook.url, { type: 'alert', ruleId: 'r1' });
    await until(() => sender.stats.delivered === 1, 'a delivery');
    const [{ headers, body }] = hook.received as [(typeof hook.received)[number]];
    expect(JSON.parse(body)).toEqual({ type: 'alert', ruleId: 'r1' });
    expect(headers['content-type']).toBe('application/json');
    const timestamp = headers['x-tutti-timestamp'] as string;
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).toBeLessThan(5);
    const expected = createHmac('sha256', 'shared-secret')
      .update(`${timestamp}.${body}`)
      .digest('hex');
    expect(headers['x-tutti-signature']).toBe(`sha256=${expected}`);
    expect(headers['x-tutti-delivery']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('retries a failing receiver with backoff, and gives up on a refusal', async () => {
    const hook = await receiver([503, 502, 200, 400]);
    closers.push(hook.close);
    const logs: string[] = [];
    const sender = new WebhookSender({ firstRetryMs: 20, log: (l) => logs.push(l) });
    sender.send(hook.url, { n: 1 }); // 503, 502, then 200
    sender.send(hook.url, { n: 2 }); // 400: not retried
    await until(() => sender.stats.delivered + sender.stats.failed === 2, 'both outcomes');
    expect(hook.received.map((r) => JSON.parse(r.body).n)).toEqual([1, 1, 1, 2]);
    expect(hook.received[0]!.headers['x-tutti-delivery']).toBe(
      hook.received[2]!.headers['x-tutti-delivery'],
    );
    expect(sender.stats).toEqual({ delivered: 1, failed: 1, dropped: 0 });
    expect(logs).toEqual([expect.stringMatching(/given up: HTTP 400$/)]);
  });

  it('keeps a bounded queue for a receiver that is down, dropping the oldest', async () => {
    const down = await receiver();
    await down.close(); // nothing listens there now
    const sender = new WebhookSender({ maxQueue: 3, maxAttempts: 2, firstRetryMs: 50 });
    for (let n = 0; n < 10; n++) sender.send(down.url, { n });
    expect(sender.stats.dropped).toBe(6); // one in flight, three waiting
    await until(() => sender.stats.failed === 4, 'the rest given up', 10_000);
  });
});

describe('rules on a live monitor', () => {
  const TOKEN = 'rules-token';
  let live: LiveMonitor | undefined;
  afterEach(async () => {
    await live?.stop();
    live = undefined;
  });

  it('fires a rule added over HTTP, delivers it signed, and keeps the rule across a restart', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const database = path.join(mkdtempSync(path.join(tmpdir(), 'tutti-rules-')), 'events.sqlite');
    const config = {
      profile: path.join(REPO_ROOT, 'models', 'tiny'),
      token: TOKEN,
      windowSeconds: 2,
      hopSeconds: 1,
      database,
      webhookSecret: 'venue-secret',
      streams: [demoStream(['Is there a flute sound?'])],
    };
    live = await startLiveMonitor(config, ['demo']);
    const post = (body: unknown, token = TOKEN) =>
      fetch(`${live!.monitor.url}/api/streams/demo/rules`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const { questions } = (await (
      await fetch(`${live.monitor.url}/api/streams/demo/questions`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as { questions: Array<{ id: string }> };
    const rule = {
      name: 'any answer, 2 s',
      questionId: questions[0]!.id,
      // Every answer's confidence is below 1: an episode from the first answer on.
      condition: { kind: 'confidence-below', confidence: 1, seconds: 2 },
      webhooks: [hook.url],
    };
    expect((await post(rule, 'wrong')).status).toBe(401);
    const refused = await post({ ...rule, questionId: 'nope' });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { error: string }).error).toContain(
      'no standing question "nope"',
    );
    const created = await post(rule);
    expect(created.status).toBe(201);
    const added = (await created.json()) as RuleMessage;
    expect(added).toMatchObject({ id: 'r1', name: 'any answer, 2 s', webhooks: [hook.url] });
    await live.waitFor((m) => m.type === 'rules' && m.rules.length === 1);

    const alert = await live.waitFor<AlertMessage>((m) => m.type === 'alert', { timeout: 30_000 });
    expect(alert).toMatchObject({ stream: 'demo', ruleId: 'r1', name: 'any answer, 2 s' });
    expect(alert.at - alert.since).toBeGreaterThanOrEqual(2000);
    await until(() => hook.received.length === 1, 'the webhook');
    const { headers, body } = hook.received[0]!;
    expect(JSON.parse(body)).toEqual(alert);
    const expected = createHmac('sha256', 'venue-secret')
      .update(`${headers['x-tutti-timestamp'] as string}.${body}`)
      .digest('hex');
    expect(headers['x-tutti-signature']).toBe(`sha256=${expected}`);
    // The alert is in the history, for the dashboard's timeline.
    const history = (await (
      await fetch(`${live.monitor.url}/api/streams/demo/history?type=alert`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as { events: Array<{ message: AlertMessage }> };
    expect(history.events.map((e) => e.message.ruleId)).toEqual(['r1']);

    await live.stop();
    live = await startLiveMonitor(config, ['demo']);
    const restored = (await (
      await fetch(`${live.monitor.url}/api/streams/demo/rules`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as { rules: RuleMessage[] };
    expect(restored.rules).toEqual([added]);
    const removed = await fetch(`${live.monitor.url}/api/streams/demo/rules/r1`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(removed.status).toBe(200);
    await live.waitFor((m) => m.type === 'rules' && m.rules.length === 0);
  }, 120_000);
});
