/** An answer card shows the answer, its confidence and runners-up, its evidence and history. */
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import AnswerCard from '../../client/src/components/AnswerCard.svelte';
import type { AnswerMessage } from '../../shared/protocol/messages.js';

const question = {
  id: 'q1',
  templateId: 'av-sounding-count',
  sentence: 'How many instruments are sounding in the video?',
  type: { modality: 'Audio-Visual', kind: 'Counting' },
};

const answer: AnswerMessage = {
  type: 'answer',
  stream: 'demo',
  questionId: 'q1',
  sentence: question.sentence,
  questionType: 'Audio-Visual/Counting',
  answer: 'two',
  confidence: 0.62,
  alternatives: [
    { answer: 'three', probability: 0.2 },
    { answer: 'one', probability: 0.1 },
    { answer: 'zero', probability: 0.05 },
  ],
  window: { start: 4, end: 7 },
  latencyMs: 31,
  audioEndedAt: 0,
  changed: true,
  attention: {
    frequency: [0.5, 0.25, 0.25],
    temporal: [0.2, 0.3, 0.5],
    spatial: [
      [0, 1],
      [1, 0],
      [0.2, 0.8],
    ],
    patchGrid: [1, 2],
  },
};

describe('AnswerCard', () => {
  it('waits for the first answer', () => {
    render(AnswerCard, { question, timeline: [], onremove: () => undefined });
    expect(screen.getByRole('article', { name: question.sentence }).textContent).toContain(
      'waiting for the next hop',
    );
  });

  it('shows the answer with its confidence, runners-up and evidence', () => {
    render(AnswerCard, { question, answer, timeline: [], onremove: () => undefined });
    expect(screen.getByTestId('answer').textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'two 62 % changed',
    );
    expect(screen.getByText('three 20 %')).toBeTruthy();
    expect(screen.getByText('when (segments 4–7 s)')).toBeTruthy();
    // Temporal bars scale to the highest, with the uniform weight (1/3) marked on that scale.
    const when = screen.getByText('when (segments 4–7 s)').parentElement!;
    const bars = when.querySelector<HTMLElement>('.bars')!;
    expect([...bars.querySelectorAll('span')].map((s) => s.style.height)).toEqual([
      '40%',
      '60%',
      '100%',
    ]);
    expect(bars.style.getPropertyValue('--uniform')).toBe('0.667');
    // The spatial grid shows the last segment: only the patch above uniform is tinted.
    const where = screen.getByText('where (last segment, peak 1.6× uniform)').parentElement!;
    expect(
      [...where.querySelectorAll('.grid span')].map((s) => (s as HTMLElement).style.opacity),
    ).toEqual(['0.12', '1']);
  });

  it('shows a flat spatial map as flat, not as if every patch mattered', () => {
    const flat = { ...answer, attention: { ...answer.attention, spatial: [[0.5, 0.5]] } };
    render(AnswerCard, { question, answer: flat, timeline: [], onremove: () => undefined });
    const where = screen.getByText('where (last segment, peak 1.0× uniform)').parentElement!;
    expect(
      [...where.querySelectorAll('.grid span')].map((s) => (s as HTMLElement).style.opacity),
    ).toEqual(['0.12', '0.12']);
  });

  it('draws the timeline and lists the answer changes, and removes on request', async () => {
    const onremove = vi.fn();
    render(AnswerCard, {
      question,
      answer,
      timeline: [
        { end: 5, at: 1000, answer: 'one', confidence: 0.5 },
        { end: 6, at: 2000, answer: 'one', confidence: 0.5 },
        { end: 7, at: 3000, answer: 'two', confidence: 0.62 },
      ],
      changes: [
        {
          ...answer,
          type: 'answer-change',
          from: null,
          to: 'one',
          window: { start: 0, end: 5 },
          at: 1000,
        },
        {
          ...answer,
          type: 'answer-change',
          from: 'one',
          to: 'two',
          window: { start: 0, end: 7 },
          at: 3000,
        },
      ],
      onremove,
    });
    const timeline = screen.getByLabelText('answers over time').querySelectorAll('span');
    expect([...timeline].map((s) => s.title)).toEqual(['5 s: one', '6 s: one', '7 s: two']);
    expect(timeline[0]!.style.background).toBe(timeline[1]!.style.background);
    expect(timeline[2]!.style.background).not.toBe(timeline[1]!.style.background);
    const changes = screen.getByRole('list', { name: 'answer changes' }).querySelectorAll('li');
    expect([...changes].map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      '5 s — → one',
      '7 s one → two',
    ]);
    await fireEvent.click(screen.getByRole('button', { name: `Remove "${question.sentence}"` }));
    expect(onremove).toHaveBeenCalledOnce();
  });
});
