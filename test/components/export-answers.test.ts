/** The export control: asks the monitor for the chosen format and range with the token, saves
 * the file under the name the monitor gives, and reports a refusal with the monitor's reason. */
import { fireEvent, render, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ExportAnswers from '../../client/src/components/ExportAnswers.svelte';

afterEach(() => vi.unstubAllGlobals());

describe('ExportAnswers', () => {
  it('downloads the chosen format over the chosen range, with the token', async () => {
    const fetched: Array<[string, RequestInit | undefined]> = [];
    vi.stubGlobal('fetch', (url: string, init?: RequestInit) => {
      fetched.push([url, init]);
      return Promise.resolve(
        new Response('0.000000\t2.000000\tIs there a flute sound? yes\n', {
          headers: { 'content-disposition': 'attachment; filename="tutti-demo-x.txt"' },
        }),
      );
    });
    URL.createObjectURL = vi.fn(() => 'blob:export');
    URL.revokeObjectURL = vi.fn();
    const clicked: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push(this.download);
    });
    const { getByLabelText, getByRole } = render(ExportAnswers, {
      stream: 'demo',
      token: 'secret',
      onerror: () => {},
    });
    await fireEvent.change(getByLabelText('Export format'), { target: { value: 'audacity' } });
    await fireEvent.change(getByLabelText('Export range'), { target: { value: '15' } });
    const before = Date.now();
    await fireEvent.click(getByRole('button', { name: 'Download' }));
    await waitFor(() => expect(clicked).toEqual(['tutti-demo-x.txt']));
    const [url, init] = fetched[0]!;
    const query = new URL(url, 'http://monitor').searchParams;
    expect(new URL(url, 'http://monitor').pathname).toBe('/api/streams/demo/export');
    expect(query.get('format')).toBe('audacity');
    expect(Number(query.get('to')) - Number(query.get('from'))).toBe(15 * 60_000);
    expect(Number(query.get('to'))).toBeGreaterThanOrEqual(before);
    expect(init?.headers).toEqual({ authorization: 'Bearer secret' });
  });

  it("reports the monitor's reason when it refuses", async () => {
    vi.stubGlobal('fetch', () =>
      Promise.resolve(Response.json({ error: 'reading needs the access token' }, { status: 401 })),
    );
    const errors: string[] = [];
    const { getByRole } = render(ExportAnswers, {
      stream: 'demo',
      token: '',
      onerror: (message: string) => errors.push(message),
    });
    await fireEvent.click(getByRole('button', { name: 'Download' }));
    await waitFor(() =>
      expect(errors).toEqual(['cannot export demo: reading needs the access token']),
    );
  });
});
