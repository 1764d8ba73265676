/** The question builder: templates by type, a picker per instrument/position, exact output. */
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import QuestionBuilder from '../../client/src/components/QuestionBuilder.svelte';
import { parseQuestion, TEMPLATES } from '../../shared/question-space/index.js';

describe('QuestionBuilder', () => {
  it('groups all 33 templates by question type', () => {
    render(QuestionBuilder, { onask: () => undefined });
    const groups = [...document.querySelectorAll('optgroup')].map((g) => g.label);
    expect(groups).toEqual([
      'Audio · Counting',
      'Audio · Comparative',
      'Visual · Counting',
      'Visual · Location',
      'Audio-Visual · Existential',
      'Audio-Visual · Counting',
      'Audio-Visual · Location',
      'Audio-Visual · Comparative',
      'Audio-Visual · Temporal',
    ]);
    expect(screen.getByTestId('template').querySelectorAll('option')).toHaveLength(
      TEMPLATES.length,
    );
  });

  it('offers a picker per placeholder, different instruments first, and asks what it shows', async () => {
    const onask = vi.fn();
    render(QuestionBuilder, { onask });
    await fireEvent.change(screen.getByTestId('template'), {
      target: { value: 'av-object-louder-at' },
    });
    const slots = screen.getAllByTestId('slot') as HTMLSelectElement[];
    expect(slots.map((s) => s.getAttribute('aria-label'))).toEqual([
      'Object 1',
      'LR 2',
      'Object 3',
      'LR 4',
    ]);
    expect(slots[0]!.options).toHaveLength(22);
    expect([...slots[1]!.options].map((o) => o.value)).toEqual(['left', 'middle', 'right']);
    expect(slots[0]!.value).not.toBe(slots[2]!.value);

    await fireEvent.change(slots[0]!, { target: { value: 'violin' } });
    await fireEvent.change(slots[2]!, { target: { value: 'acoustic_guitar' } });
    await fireEvent.change(slots[3]!, { target: { value: 'right' } });
    expect(screen.getByTestId('sentence').textContent).toBe(
      'Is the violin on the left louder than the acoustic guitar on the right?',
    );
    await fireEvent.click(screen.getByRole('button', { name: 'Ask this' }));
    expect(onask).toHaveBeenCalledWith(
      'Is the <Object> on the <LR> louder than the <Object> on the <LR>?',
      ['violin', 'left', 'acoustic_guitar', 'right'],
    );
    // What it sends is what the monitor parses, to the template it was built from.
    const [template, values] = onask.mock.calls[0]! as [string, string[]];
    expect(parseQuestion(template, values).template.id).toBe('av-object-louder-at');
  });

  it('asks a question without placeholders as it is', async () => {
    const onask = vi.fn();
    render(QuestionBuilder, { onask });
    await fireEvent.change(screen.getByTestId('template'), { target: { value: 'av-voiceover' } });
    expect(screen.queryAllByTestId('slot')).toHaveLength(0);
    await fireEvent.click(screen.getByRole('button', { name: 'Ask this' }));
    expect(onask).toHaveBeenCalledWith('Is there a voiceover?', []);
  });
});
