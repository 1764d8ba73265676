/** The health line: state, counts, level, fps, speed, share analysed, latency, and why. */
import { render } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import StreamHealth from '../../client/src/components/StreamHealth.svelte';
import type { SegmentMessage } from '../../shared/protocol/messages.js';

const segment = (index: number, levelDb: number): SegmentMessage => ({
  type: 'segment',
  stream: 'demo',
  index,
  start: index,
  levelDb,
  spectrogram: [],
});

const text = (element: Element) => element.textContent?.replace(/\s+/g, ' ').trim();

describe('StreamHealth', () => {
  it('says what it does not know yet', () => {
    const { container } = render(StreamHealth, {});
    expect(text(container.querySelector('.health')!)).toBe(
      'connecting · 0 segments · 0 skipped · level – · – fps · speed – · analysed – · latency –',
    );
  });

  it('reports a live stream, counting skipped segments against the analysed share', () => {
    const { container } = render(StreamHealth, {
      status: {
        type: 'stream-status',
        stream: 'demo',
        state: 'live',
        segments: 41,
        skippedHops: 2,
        fps: 2,
        speed: 0.98,
      },
      // Segments 0–4 with segment 2 missing: 4 of 5 analysed.
      segments: [segment(0, -30), segment(1, -28), segment(3, -25), segment(4, -21.6)],
      latencyMs: 42.4,
    });
    const health = container.querySelector('.health')!;
    expect(health.getAttribute('data-state')).toBe('live');
    expect(text(health)).toBe(
      'live · 41 segments · 2 skipped · level -22 dBFS · 2.0 fps · speed 0.98× · analysed 75 % · latency 42 ms',
    );
  });

  it('shows why a source is retrying', () => {
    const { container } = render(StreamHealth, {
      status: {
        type: 'stream-status',
        stream: 'cam',
        state: 'retrying',
        detail: 'no camera at /dev/video0; retrying in 4 s',
        segments: 0,
        skippedHops: 0,
      },
    });
    expect(text(container.querySelector('.detail')!)).toBe(
      '— no camera at /dev/video0; retrying in 4 s',
    );
  });
});
