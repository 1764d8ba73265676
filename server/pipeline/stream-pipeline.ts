/**
 * One live stream, source to answers: source events → one-second segments → front-end and
 * encoders (once per segment, in the inference worker) → window of the last W segments → every
 * standing question answered in one batch per hop. Inference never queues without bound: a
 * segment that finds the encoder `maxPendingSegments` behind, or a hop that finds the head still
 * busy, is skipped and counted.
 */
import type { Observable } from 'rxjs';
import { concatMap, exhaustMap, filter, from, map, merge, mergeMap, share, tap } from 'rxjs';
import type { ServerMessage } from '../../shared/protocol/messages.js';
import { segmentSummary } from '../answers/segment-summary.js';
import { answerMessages, type StandingQuestions } from '../answers/standing-questions.js';
import type { Inference } from '../encoders/inference-pool.js';
import { toSegments, type Segment } from '../segments/to-segments.js';
import type { SourceEvent } from '../sources/media-file-source.js';
import { FeatureWindow } from '../windows/feature-window.js';

export interface StreamOptions {
  readonly windowSeconds: number;
  /** Answer every `hopSeconds` segments. */
  readonly hopSeconds: number;
  readonly patchGrid: [number, number];
  readonly maxPendingSegments?: number;
  /** Sees every segment as it is cut (the monitor keeps its frame). */
  readonly onSegment?: (segment: Segment) => void;
  /** A segment the front-end or encoders refused (NaN samples, a malformed frame…): skipped. */
  readonly onRejected?: (segment: Segment, reason: string) => void;
}

export interface StreamCounters {
  segments: number;
  skippedSegments: number;
  skippedHops: number;
}

export function runStream(
  stream: string,
  source: Observable<SourceEvent>,
  inference: Inference,
  questions: StandingQuestions,
  options: StreamOptions,
  counters: StreamCounters = { segments: 0, skippedSegments: 0, skippedHops: 0 },
): Observable<ServerMessage> {
  const window = new FeatureWindow(options.windowSeconds);
  const maxPending = options.maxPendingSegments ?? 3;
  let pending = 0;

  const encoded = source.pipe(
    toSegments(),
    map((segment) => {
      options.onSegment?.(segment);
      return { segment, readyAt: performance.now() };
    }),
    filter(() => {
      if (pending >= maxPending) {
        counters.skippedSegments += 1;
        return false;
      }
      pending += 1;
      return true;
    }),
    concatMap(async ({ segment, readyAt }: { segment: Segment; readyAt: number }) => {
      try {
        const { samples, frame, channels } = segment;
        const { features, spectrogram } = await inference.encode(samples, frame, channels);
        window.push(segment.index, segment.start, features);
        counters.segments += 1;
        return { segment, readyAt, summary: segmentSummary(stream, segment, spectrogram) };
      } catch (error) {
        // A bad segment is refused with its reason; the stream goes on with the next.
        counters.skippedSegments += 1;
        options.onRejected?.(segment, (error as Error).message);
        return undefined;
      } finally {
        pending -= 1;
      }
    }),
    filter((encoded) => encoded !== undefined),
    share(),
  );

  // What each analysed segment sounded like, for the dashboard; and the answers per hop.
  const summaries = encoded.pipe(map(({ summary }): ServerMessage => summary));
  const answers = encoded.pipe(
    filter(({ segment }) => (segment.index + 1) % options.hopSeconds === 0),
    filter(() => questions.list().length > 0),
    exhaustMapCounting(counters, async ({ readyAt }): Promise<ServerMessage[]> => {
      const asked = questions.list();
      // The window as it is now: segments keep arriving while the head works. Its segments'
      // features are in shared memory: the worker lays them out, this thread copies nothing.
      const segments = window.segments();
      const span = window.span();
      try {
        const answered = await inference.answer(
          segments,
          asked.map((q) => q.ids),
        );
        const { answers, changes } = answerMessages(asked, answered, {
          stream,
          window: span,
          segments: segments.length,
          patchGrid: options.patchGrid,
          readyAt,
        });
        return [...answers, ...changes];
      } catch (error) {
        // One failed hop is reported and counted as skipped; the stream goes on with the next.
        counters.skippedHops += 1;
        return [
          {
            type: 'error',
            message: `stream ${stream}: answering failed: ${(error as Error).message}`,
          },
        ];
      }
    }),
    mergeMap((messages) => from(messages)),
  );
  return merge(summaries, answers);
}

/** exhaustMap that counts the hops it drops while the previous one is still being answered. */
function exhaustMapCounting<T, R>(counters: StreamCounters, project: (value: T) => Promise<R>) {
  let busy = false;
  return (source: Observable<T>) =>
    source.pipe(
      tap(() => {
        if (busy) counters.skippedHops += 1;
      }),
      exhaustMap((value) => {
        busy = true;
        return from(project(value).finally(() => (busy = false)));
      }),
    );
}
