/**
 * Browser captures and recordings started through a gateway (issue #13): the gateway ingests
 * them itself — the bytes the dashboard sends, decoded by ffmpeg, cut into segments and queued
 * like any ingest node's stream — and records them in the stream directory, so every gateway lists
 * them, until they end.
 */
import { PassThrough, type Writable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Subscription } from 'rxjs';
import { pipedMediaSource } from '../sources/media-file-source.js';
import { ingestStream, IngestPositions } from './ingest-node.js';
import type { StreamDirectory } from './stream-directory.js';

export interface CaptureOptions {
  /** The gateway's node name: the captures' owner in the directory. */
  readonly name: string;
  /** Captures at once (TUTTI_MAX_CAPTURES). */
  readonly maxCaptures?: number;
  readonly log: (line: string) => void;
}

export class CaptureIngest {
  private readonly running = new Map<string, Subscription>();

  private constructor(
    private readonly connection: NatsConnection,
    private readonly positions: IngestPositions,
    private readonly directory: StreamDirectory,
    private readonly options: CaptureOptions,
  ) {}

  static async open(
    connection: NatsConnection,
    directory: StreamDirectory,
    options: CaptureOptions,
  ): Promise<CaptureIngest> {
    return new CaptureIngest(
      connection,
      await IngestPositions.open(connection),
      directory,
      options,
    );
  }

  /** A new stream fed by the returned byte sink (a recording played at `recording.speed`). */
  start(stream: string, recording?: { speed: number }): Writable {
    const { log, name } = this.options;
    const limit = this.options.maxCaptures ?? 4;
    if (this.running.size >= limit)
      throw new Error(
        `${this.running.size} captures are running, the most this gateway takes (TUTTI_MAX_CAPTURES)`,
      );
    const bytes = new PassThrough();
    const source = () =>
      pipedMediaSource(`${recording ? 'recording' : 'capture'} ${stream}`, bytes, {
        ...(recording ? { readRate: recording.speed } : {}),
      });
    const failed = (error: Error) => log(`gateway: capture ${stream}: ${error.message}`);
    const ended = (why: string) => {
      this.running.delete(stream);
      log(`gateway: capture ${stream} ${why}`);
      this.directory.release(stream).catch(failed);
    };
    this.directory.claim(name, { id: stream }).catch(failed);
    const config = { id: stream, source, retry: false };
    this.running.set(
      stream,
      ingestStream(this.connection, this.positions, config, { log }).subscribe({
        error: (error: Error) => ended(`stopped: ${error.message}`),
        complete: () => ended('ended'),
      }),
    );
    return bytes;
  }

  stopAll(): void {
    for (const capture of this.running.values()) capture.unsubscribe();
  }
}
