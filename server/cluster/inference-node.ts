/**
 * What an inference node does with one queued segment (issue #13): decode it, encode it, keep its
 * features on the bus (FeatureStore), and when it ends a hop, answer the stream's standing
 * questions (StandingKv) over the window rebuilt from the bus — whichever nodes encoded its other
 * segments — and publish the answers (deduplicated by id on the wire). The node holds no state a
 * stream needs: kill it, and the segment it held is redelivered to another node that answers the
 * same way. Which answer came last, for answer-change events, is on the bus too (LastAnswers),
 * with what each hop was told against, so a hop redelivered after its publishing failed tells
 * its changes again (repeats are dropped by message id).
 */
import type { ServerMessage } from '../../shared/protocol/messages.js';
import { answerMessages, StandingQuestions } from '../answers/standing-questions.js';
import type { Answered } from '../encoders/qstar-answerer.js';
import { withStereo, type SegmentFeatures } from '../encoders/segment-encoders.js';
import type { Segment } from '../segments/to-segments.js';
import { FeatureWindow } from '../windows/feature-window.js';
import { windowIndices, type FeatureStore, type StoredSegment } from './feature-store.js';
import type { QueuedSegment } from './segment-queue.js';
import { decodeSegment } from './segment-record.js';
import type { LastAnswers } from './last-answers.js';
import type { StandingKv } from './standing-kv.js';

export interface InferenceNodeOptions {
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly patchGrid: [number, number];
  /** How long a hop waits for window segments other nodes are still encoding (default 500 ms). */
  readonly windowWaitMs?: number;
  /**
   * Segments kept per node for the windows of the streams it served last (default 320: 32 streams
   * at W = 10), so a hop reads from the bus only what other nodes encoded since — a paper-profile
   * segment is 1.09 MB, its whole window 10.9 MB.
   */
  readonly cachedSegments?: number;
  readonly tokenize: (sentence: string) => number[];
  readonly encode: (segment: Segment) => Promise<SegmentFeatures>;
  /** Answers over a window's segments, oldest first (the inference worker lays them out). */
  readonly answer: (
    segments: readonly SegmentFeatures[],
    questionIds: number[][],
  ) => Promise<Answered>;
  readonly publish: (message: ServerMessage) => Promise<unknown>;
}

export class InferenceNode {
  /** Per stream, its standing questions as last read from the bucket (with their last answers). */
  private readonly questions = new Map<string, { revision: string; standing: StandingQuestions }>();
  /** Recently seen segments, per stream by index; streams in order of use (oldest first). */
  private readonly cache = new Map<string, Map<number, StoredSegment>>();

  constructor(
    private readonly features: FeatureStore,
    private readonly standing: StandingKv,
    private readonly lastAnswers: LastAnswers,
    private readonly options: InferenceNodeOptions,
  ) {}

  /** Handles one segment; resolves with what it published (nothing for a mid-hop segment). */
  async handle(queued: QueuedSegment): Promise<ServerMessage[]> {
    const segment = await decodeSegment(queued.payload);
    // Latency from the end of the audio at the ingest node (clocks kept by NTP), queue included.
    const readyAt = segment.audioEndedAt - performance.timeOrigin;
    const features = withStereo(await this.options.encode(segment), segment.stereoBands);
    const stored = { index: segment.index, start: segment.start, features };
    await this.features.put(queued.stream, stored);
    this.remember(queued.stream, [stored]);
    if ((segment.index + 1) % this.options.hopSeconds !== 0) return [];
    const asked = this.standingOf(queued.stream).list();
    if (asked.length === 0) return [];
    const [window, before] = await Promise.all([
      this.window(queued.stream, segment.index),
      this.lastAnswers.read(queued.stream),
    ]);
    // What the stream's previous hop answered, whichever node answered it (this node's own
    // memory only when the bus has nothing older than this hop). A hop recorded already is a
    // redelivery: its record keeps what it was told against.
    const end = segment.index + 1;
    const redelivered = before.value?.end === end;
    const previous = redelivered ? before.value?.previous : before.value;
    if (redelivered || (previous && previous.end < end))
      for (const question of asked) question.lastAnswer = previous?.answers[question.id];
    const answered = await this.options.answer(
      window.segments(),
      asked.map((q) => q.ids),
    );
    const { answers, changes } = answerMessages(asked, answered, {
      stream: queued.stream,
      window: window.span(),
      segments: window.size,
      patchGrid: this.options.patchGrid,
      readyAt,
    });
    await this.lastAnswers.record(
      queued.stream,
      {
        end,
        answers: Object.fromEntries(answers.map((a) => [a.questionId, a.answer])),
        ...(previous &&
          previous.end < end && { previous: { end: previous.end, answers: previous.answers } }),
      },
      before,
    );
    const messages: ServerMessage[] = [...answers, ...changes];
    for (const message of messages) await this.options.publish(message);
    return messages;
  }

  /** The stream's questions, re-read when the bucket's value changed. */
  private standingOf(stream: string): StandingQuestions {
    const message = this.standing.latest(stream, 'questions');
    const revision = JSON.stringify(message?.questions ?? []);
    const held = this.questions.get(stream);
    if (held?.revision === revision) return held.standing;
    const standing = new StandingQuestions(this.options.tokenize);
    standing.restore(message?.questions ?? []);
    for (const question of standing.list()) {
      const before = held?.standing.list().find((q) => q.id === question.id);
      if (before) question.lastAnswer = before.lastAnswer;
    }
    this.questions.set(stream, { revision, standing });
    return standing;
  }

  /**
   * The window ending at `last`: what this node holds, and from the bus what other nodes encoded,
   * waiting a little for segments they are still encoding.
   */
  private async window(stream: string, last: number): Promise<FeatureWindow> {
    const size = this.options.windowSeconds;
    const wanted = windowIndices(last, size);
    const deadline = performance.now() + (this.options.windowWaitMs ?? 500);
    let lacking = wanted.filter((i) => !this.cache.get(stream)?.has(i));
    while (lacking.length > 0) {
      const found = await this.features.get(stream, lacking);
      this.remember(stream, found.segments);
      lacking = found.missing;
      if (lacking.length === 0 || performance.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const held = this.cache.get(stream) ?? new Map<number, StoredSegment>();
    const window = new FeatureWindow(size);
    for (const index of wanted) {
      const s = held.get(index);
      if (s) window.push(s.index, s.start, s.features);
    }
    for (const index of held.keys()) if (index <= last - size) held.delete(index);
    return window;
  }

  /** Keeps segments for later windows; the streams used least recently go first past the cap. */
  private remember(stream: string, segments: readonly StoredSegment[]): void {
    const held = this.cache.get(stream) ?? new Map<number, StoredSegment>();
    this.cache.delete(stream); // re-inserted: most recently used last
    this.cache.set(stream, held);
    for (const s of segments) held.set(s.index, s);
    let total = [...this.cache.values()].reduce((sum, m) => sum + m.size, 0);
    for (const [name, old] of this.cache) {
      if (total <= (this.options.cachedSegments ?? 320) || name === stream) break;
      total -= old.size;
      this.cache.delete(name);
    }
  }
}
