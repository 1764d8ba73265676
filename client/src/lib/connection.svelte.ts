/**
 * The dashboard's WebSocket to the monitor: every message validated with the shared protocol,
 * state kept in Svelte runes, and a reconnect (with backoff) whenever the monitor goes away.
 */
import { SvelteSet } from 'svelte/reactivity';
import {
  serverMessageSchema,
  type AnswerMessage,
  type ClientMessage,
  type SegmentMessage,
  type StandingQuestionMessage,
  type StreamStatusMessage,
} from '../../../shared/protocol/messages';

export interface StreamView {
  status?: StreamStatusMessage;
  questions: StandingQuestionMessage[];
  answers: Record<string, AnswerMessage>;
  /** Per question, recent answers for its timeline (newest last). */
  timeline: Record<string, Array<{ end: number; answer: string; confidence: number }>>;
  /** The last segments heard, oldest first (the scrolling spectrogram). */
  segments: SegmentMessage[];
}

const SEGMENTS_KEPT = 20;

const TIMELINE_LENGTH = 60;

export class Connection {
  connected = $state(false);
  error = $state('');
  streams = $state<Record<string, StreamView>>({});
  private socket?: WebSocket;
  private retry = 0;
  private readonly subscriptions = new SvelteSet<string>();

  constructor(private readonly url: string) {
    this.open();
  }

  private open(): void {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.connected = true;
      this.retry = 0;
      for (const stream of this.subscriptions) this.send({ type: 'subscribe', stream });
    };
    socket.onclose = () => {
      this.connected = false;
      // Reconnects by itself: 0.5 s, doubling to 8 s.
      setTimeout(() => this.open(), Math.min(8000, 500 * 2 ** this.retry++));
    };
    socket.onmessage = (event) => this.receive(String(event.data));
  }

  private view(stream: string): StreamView {
    return (this.streams[stream] ??= { questions: [], answers: {}, timeline: {}, segments: [] });
  }

  private receive(text: string): void {
    const parsed = serverMessageSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return;
    const message = parsed.data;
    switch (message.type) {
      case 'answer': {
        const view = this.view(message.stream);
        view.answers[message.questionId] = message;
        this.addToTimeline(view, message);
        break;
      }
      case 'segment': {
        const segments = this.view(message.stream).segments;
        segments.push(message);
        if (segments.length > SEGMENTS_KEPT) segments.shift();
        break;
      }
      case 'questions':
        this.view(message.stream).questions = message.questions;
        break;
      case 'stream-status':
        this.view(message.stream).status = message;
        break;
      case 'error':
        this.error = message.message;
        break;
      case 'dropped':
        break;
    }
  }

  private addToTimeline(view: StreamView, message: AnswerMessage): void {
    const line = (view.timeline[message.questionId] ??= []);
    if (line.some((point) => point.end === message.window.end)) return;
    line.push({ end: message.window.end, answer: message.answer, confidence: message.confidence });
    line.sort((a, b) => a.end - b.end);
    if (line.length > TIMELINE_LENGTH) line.shift();
  }

  /** Fills the timelines with what the monitor logged in the last minutes (its SQLite log). */
  async loadHistory(stream: string, minutes = 5): Promise<void> {
    const response = await fetch(
      `/api/streams/${stream}/history?type=answer&from=${Date.now() - minutes * 60_000}&limit=2000`,
    );
    if (!response.ok) return;
    const { events } = (await response.json()) as { events: Array<{ message: unknown }> };
    const view = this.view(stream);
    for (const event of events) {
      const parsed = serverMessageSchema.safeParse(event.message);
      if (parsed.success && parsed.data.type === 'answer') this.addToTimeline(view, parsed.data);
    }
  }

  send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /**
   * Streams the browser's camera and microphone to the monitor as a new stream: WebM chunks from
   * MediaRecorder every 250 ms, sent as binary messages after `capture-start`.
   */
  startCapture(stream: string, token: string, media: MediaStream): MediaRecorder {
    this.subscriptions.add(stream);
    this.view(stream);
    this.send({ type: 'capture-start', stream, token });
    const recorder = new MediaRecorder(media, {
      mimeType: 'video/webm;codecs=vp8,opus',
      videoBitsPerSecond: 800_000,
    });
    recorder.ondataavailable = async (event) => {
      if (event.data.size > 0 && this.socket?.readyState === WebSocket.OPEN)
        this.socket.send(await event.data.arrayBuffer());
    };
    recorder.start(250);
    return recorder;
  }

  subscribe(stream: string): void {
    this.subscriptions.add(stream);
    this.view(stream);
    this.send({ type: 'subscribe', stream });
  }
}
