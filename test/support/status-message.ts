/** A live stream's status message, numbered by its segment count: a small message for log tests. */
import type { ServerMessage } from '../../shared/protocol/messages.js';

export const liveStatus = (stream: string, segments: number): ServerMessage => ({
  type: 'stream-status',
  stream,
  state: 'live',
  segments,
  skippedHops: 0,
});
