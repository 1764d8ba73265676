/**
 * The dashboard's WebSocket to the monitor: every message validated with the shared protocol,
 * state kept in Svelte runes, and a reconnect (with backoff) whenever the monitor goes away.
 */
import type { AlertMessage, RuleMessage } from '../../../shared/protocol/rules';
import { SvelteSet } from 'svelte/reactivity';
import { authorisation, tokenProtocols } from './access-token';
import {
  serverMessageSchema,
  type AnswerChangeMessage,
  type AnswerMessage,
  type ClientMessage,
  type SegmentMessage,
  type StandingQuestionMessage,
  type StreamStatusMessage,
} from '../../../shared/protocol/messages';

export interface TimelinePoint {
  /** Stream time the answer's window ends at, s. */
  readonly end: number;
  /** Wall-clock time of the hop (ms since the epoch): orders points across monitor restarts. */
  readonly at: number;
  readonly answer: string;
  readonly confidence: number;
}

export interface StreamView {
  status?: StreamStatusMessage;
  questions: StandingQuestionMessage[];
  answers: Record<string, AnswerMessage>;
  /** Per question, recent answers for its timeline (newest last). */
  timeline: Record<string, TimelinePoint[]>;
  /** Per question, its latest answer changes (newest last), live and from the log. */
  changes: Record<string, AnswerChangeMessage[]>;
  /** The last segments heard, oldest first (the scrolling spectrogram). */
  segments: SegmentMessage[];
  /** Its alert rules, and the alerts they fired (newest last), live and from the log. */
  rules: RuleMessage[];
  alerts: AlertMessage[];
}

const SEGMENTS_KEPT = 20;

const TIMELINE_LENGTH = 60;

const CHANGES_KEPT = 8;

const ALERTS_KEPT = 20;
/** The messages the monitor may answer with an error. */
const REQUESTS = new Set<ClientMessage['type']>([
  'add-question',
  'remove-question',
  'capture-start',
]);

/**
 * Adds `item` to the question's list, oldest first, keeping the newest `kept`. An item already
 * there (the same wall-clock `at`: the log and the live stream may both hold it) is skipped.
 */
function keepInTimeOrder<T extends { at: number }>(
  lists: Record<string, T[]>,
  questionId: string,
  item: T,
  kept: number,
): void {
  // Through the state proxy: `??=` evaluates to the raw array, whose changes nothing would see.
  lists[questionId] ??= [];
  const list = lists[questionId]!;
  if (list.some((existing) => existing.at === item.at)) return;
  list.push(item);
  list.sort((a, b) => a.at - b.at);
  if (list.length > kept) list.shift();
}

export class Connection {
  connected = $state(false);
  error = $state('');
  /** The monitor's streams, as it last listed them. */
  streamIds = $state<string[]>([]);
  streams = $state<Record<string, StreamView>>({});
  private socket?: WebSocket;
  private retry = 0;
  private reconnect?: ReturnType<typeof setTimeout>;
  private closed = false;
  private readonly subscriptions = new SvelteSet<string>();

  constructor(
    private readonly url: string,
    private token = '',
  ) {
    this.open();
  }

  /** A new token: the connection starts again with it. */
  setToken(token: string): void {
    if (token === this.token) return;
    this.token = token;
    this.retry = 0;
    clearTimeout(this.reconnect);
    const old = this.socket;
    this.socket = undefined;
    old?.close();
    this.open();
  }

  private open(): void {
    const socket = new WebSocket(this.url, tokenProtocols(this.token));
    this.socket = socket;
    socket.onopen = () => {
      this.connected = true;
      this.retry = 0;
      for (const stream of this.subscriptions) this.send({ type: 'subscribe', stream });
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return; // replaced by a connection with a new token
      this.connected = false;
      if (event.code === 4401)
        this.error = 'reading needs the access token: enter it in "token" above';
      if (this.closed) return;
      // Reconnects by itself: 0.5 s, doubling to 8 s.
      this.reconnect = setTimeout(() => this.open(), Math.min(8000, 500 * 2 ** this.retry++));
    };
    socket.onmessage = (event) => this.receive(String(event.data));
    socket.onerror = () => undefined; // a close follows, and reconnects
  }

  private view(stream: string): StreamView {
    return (this.streams[stream] ??= {
      questions: [],
      answers: {},
      timeline: {},
      changes: {},
      segments: [],
      rules: [],
      alerts: [],
    });
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
      case 'answer-change':
        this.addChange(this.view(message.stream), message);
        break;
      case 'segment': {
        const view = this.view(message.stream);
        // A segment index going back: the source restarted; what came before is another run.
        if ((view.segments.at(-1)?.index ?? -1) >= message.index) view.segments = [];
        const segments = view.segments;
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
      case 'streams':
        this.streamIds = message.streams;
        break;
      case 'rules':
        this.view(message.stream).rules = message.rules;
        break;
      case 'alert':
        this.addAlert(this.view(message.stream), message);
        break;
      case 'dropped':
        break;
    }
  }

  private addToTimeline(view: StreamView, message: AnswerMessage): void {
    keepInTimeOrder(
      view.timeline,
      message.questionId,
      {
        end: message.window.end,
        at: message.audioEndedAt,
        answer: message.answer,
        confidence: message.confidence,
      },
      TIMELINE_LENGTH,
    );
  }

  private addAlert(view: StreamView, alert: AlertMessage): void {
    // The log and the live stream may both hold it.
    if (view.alerts.some((a) => a.at === alert.at && a.ruleId === alert.ruleId)) return;
    view.alerts = [...view.alerts, alert].sort((a, b) => a.at - b.at).slice(-ALERTS_KEPT);
  }

  private addChange(view: StreamView, message: AnswerChangeMessage): void {
    keepInTimeOrder(view.changes, message.questionId, message, CHANGES_KEPT);
  }

  /**
   * Fills the timelines with what the monitor logged (its SQLite log): the answers of the last
   * minutes, and the answer changes of the last hour.
   */
  async loadHistory(stream: string, minutes = 5): Promise<void> {
    const view = this.view(stream);
    const logged = async (type: string, since: number) => {
      const response = await fetch(
        `/api/streams/${stream}/history?type=${type}&from=${Date.now() - since}&limit=2000&order=desc`,
        authorisation(this.token),
      );
      if (!response.ok) return [];
      const { events } = (await response.json()) as { events: Array<{ message: unknown }> };
      return events.flatMap((event) => {
        const parsed = serverMessageSchema.safeParse(event.message);
        return parsed.success ? [parsed.data] : [];
      });
    };
    for (const message of await logged('answer', minutes * 60_000))
      if (message.type === 'answer') this.addToTimeline(view, message);
    for (const message of await logged('answer-change', 3_600_000))
      if (message.type === 'answer-change') this.addChange(view, message);
    for (const message of await logged('alert', 3_600_000))
      if (message.type === 'alert') this.addAlert(view, message);
  }

  send(message: ClientMessage): void {
    // A new request: the error of an earlier one no longer describes what the user just did.
    if (REQUESTS.has(message.type)) this.error = '';
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /**
   * Streams the browser's camera and microphone to the monitor as a new stream: WebM chunks from
   * MediaRecorder every 250 ms, sent as binary messages after `capture-start`.
   */
  startCapture(stream: string, token: string, media: MediaStream): MediaRecorder {
    this.startStream(stream, token);
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

  /**
   * Sends a transcoded recording (see transcode-recording.ts) as a new stream the monitor plays
   * at `speed` × real time: 256 KB binary messages, each once the socket's buffer has room, then
   * `capture-end`.
   */
  async sendRecording(
    stream: string,
    token: string,
    bytes: Uint8Array<ArrayBuffer>,
    speed: number,
    onProgress: (fraction: number) => void = () => undefined,
  ): Promise<void> {
    this.startStream(stream, token, { speed });
    const socket = this.socket;
    const chunk = 256 * 1024;
    for (let offset = 0; offset < bytes.length; offset += chunk) {
      while (socket?.readyState === WebSocket.OPEN && socket.bufferedAmount > 4 * chunk)
        await new Promise((resolve) => setTimeout(resolve, 50));
      if (socket?.readyState !== WebSocket.OPEN || socket !== this.socket)
        throw new Error('the connection to the monitor closed while sending the recording');
      socket.send(bytes.subarray(offset, offset + chunk));
      onProgress(Math.min(1, (offset + chunk) / bytes.length));
    }
    this.send({ type: 'capture-end', stream });
  }

  /** Closes for good (no reconnecting). */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnect);
    this.socket?.close();
  }

  /** A new stream fed by this connection; `capture-start` subscribes it to the stream too. */
  private startStream(stream: string, token: string, recording?: { speed: number }): void {
    this.subscriptions.add(stream);
    this.view(stream);
    this.send({ type: 'capture-start', stream, token, ...(recording ? { recording } : {}) });
  }

  /** Subscribes to a stream (again after each reconnect); false if it already was. */
  subscribe(stream: string): boolean {
    if (this.subscriptions.has(stream)) return false;
    this.subscriptions.add(stream);
    this.view(stream);
    this.send({ type: 'subscribe', stream });
    return true;
  }
}
