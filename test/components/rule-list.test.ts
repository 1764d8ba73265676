/** The rule list: each rule's condition in words, removal with the token, alerts newest first. */
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import RuleList from '../../client/src/components/RuleList.svelte';
import type { AlertMessage, RuleMessage } from '../../shared/protocol/rules.js';

afterEach(() => vi.unstubAllGlobals());

const rules: RuleMessage[] = [
  {
    id: 'r1',
    name: 'violin missing',
    questionId: 'q2',
    condition: { kind: 'answer-stays', answer: 'no', seconds: 10 },
    cooldownSeconds: 60,
    schedule: [{ from: '2026-07-18T20:15:00+02:00', to: '2026-07-18T20:40:00+02:00' }],
    webhooks: [],
    osc: [],
  },
  {
    id: 'r2',
    name: 'feed down',
    condition: { kind: 'stream-not-live', seconds: 30 },
    cooldownSeconds: 300,
    webhooks: [],
    osc: [],
  },
];
const alert = (ruleId: string, name: string, at: number): AlertMessage => ({
  type: 'alert',
  stream: 'stage',
  ruleId,
  name,
  description: `${name} happened`,
  since: at - 10_000,
  at,
});

describe('RuleList', () => {
  it("shows each rule's condition and the fired alerts, newest first", () => {
    const { getByLabelText } = render(RuleList, {
      stream: 'stage',
      token: 't',
      rules,
      alerts: [alert('r2', 'feed down', 1000), alert('r1', 'violin missing', 2000)],
      questions: [
        {
          id: 'q2',
          templateId: 'audio-object-heard',
          sentence: 'Is there a violin sound?',
          type: { modality: 'Audio', kind: 'Counting' },
        },
      ],
      onerror: () => {},
    });
    const items = [...getByLabelText('Alert rules').querySelectorAll('ul li')].map((li) =>
      li.textContent?.replace(/\s+/g, ' ').trim(),
    );
    expect(items).toEqual([
      'violin missing "Is there a violin sound?" stays no for 10 s (scheduled) ✕',
      'feed down not live for 30 s ✕',
    ]);
    const fired = [...getByLabelText('Fired alerts').querySelectorAll('li')].map(
      (li) => li.textContent,
    );
    expect(fired[0]).toContain('violin missing: violin missing happened');
    expect(fired[1]).toContain('feed down');
  });

  it('adds a rule for a standing question with the token', async () => {
    const calls: Array<[string, RequestInit]> = [];
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return Promise.resolve(Response.json({}, { status: 201 }));
    });
    const { getByLabelText, getByRole } = render(RuleList, {
      stream: 'stage',
      token: 'secret',
      rules: [],
      alerts: [],
      questions: [
        {
          id: 'q1',
          templateId: 'audio-object-heard',
          sentence: 'Is there a flute sound?',
          type: { modality: 'Audio', kind: 'Counting' },
        },
        {
          id: 'q2',
          templateId: 'audio-object-heard',
          sentence: 'Is there a violin sound?',
          type: { modality: 'Audio', kind: 'Counting' },
        },
      ],
      onerror: () => {},
    });
    await fireEvent.change(getByLabelText('Rule question'), { target: { value: 'q2' } });
    await fireEvent.input(getByLabelText('Rule seconds'), { target: { value: '15' } });
    await fireEvent.input(getByLabelText('Rule webhook'), {
      target: { value: 'https://ops.example/hook' },
    });
    await fireEvent.click(getByRole('button', { name: 'Add rule' }));
    await waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]![0]).toBe('/api/streams/stage/rules');
    expect(calls[0]![1]).toMatchObject({
      method: 'POST',
      headers: { authorization: 'Bearer secret' },
    });
    expect(JSON.parse(calls[0]![1].body as string)).toEqual({
      condition: { kind: 'answer-stays', answer: 'no', seconds: 15 },
      questionId: 'q2',
      webhooks: ['https://ops.example/hook'],
    });
  });

  it('removes a rule with the token, and reports a refusal', async () => {
    const calls: Array<[string, RequestInit]> = [];
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return Promise.resolve(
        Response.json(
          { error: 'adding and removing rules needs the access token' },
          { status: 401 },
        ),
      );
    });
    const errors: string[] = [];
    const { getByRole } = render(RuleList, {
      stream: 'stage',
      token: 'secret',
      rules,
      alerts: [],
      questions: [],
      onerror: (m: string) => errors.push(m),
    });
    await fireEvent.click(getByRole('button', { name: 'Remove rule feed down' }));
    await waitFor(() => expect(errors).toHaveLength(1));
    expect(calls[0]![0]).toBe('/api/streams/stage/rules/r2');
    expect(calls[0]![1]).toMatchObject({
      method: 'DELETE',
      headers: { authorization: 'Bearer secret' },
    });
    expect(errors[0]).toBe(
      'cannot remove rule feed down: adding and removing rules needs the access token',
    );
  });
});
