/**
 * A microphone (any PortAudio input: ALSA, PulseAudio, JACK) through naudiodon, as an Observable
 * of 20 ms chunks of 16 kHz mono float32, timestamped by sample count. A microphone has no
 * picture: a black frame every half second keeps the segments' clock (the visual answers then
 * say what a dark stage shows).
 */
import type { AudioInput } from 'naudiodon';
import { Observable } from 'rxjs';
import { BLACK_FRAME } from '../features/video/rgb-frame.js';
import { SOURCE_FRAME_RATE, SOURCE_SAMPLE_RATE, type SourceEvent } from './media-file-source.js';

export interface MicrophoneOptions {
  /** PortAudio device id; -1 (default) is the system's default input. */
  readonly deviceId?: number;
}

const CHUNK_FRAMES = SOURCE_SAMPLE_RATE / 50;

/**
 * PortAudio's initialise and terminate are not thread-safe, and naudiodon terminates on a libuv
 * thread (quit) but initialises on the main one (new AudioIO): a microphone opened while another
 * was still closing crashed the process (SIGSEGV in Pa_Initialize, in CI). Every open and every
 * close takes its turn here, each after the last has finished.
 */
let portAudioTurn: Promise<unknown> = Promise.resolve();

function inTurn(step: () => Promise<void> | void): Promise<void> {
  const done = portAudioTurn.then(step);
  portAudioTurn = done.catch(() => undefined);
  return done;
}

export function microphoneSource(options: MicrophoneOptions = {}): Observable<SourceEvent> {
  return new Observable<SourceEvent>((subscriber) => {
    let input: AudioInput | undefined;
    let closed = false;
    inTurn(async () => {
      const portAudio = await import('naudiodon');
      if (closed) return;
      const microphone = new portAudio.AudioIO({
        inOptions: {
          channelCount: 1,
          sampleFormat: portAudio.SampleFormatFloat32,
          sampleRate: SOURCE_SAMPLE_RATE,
          deviceId: options.deviceId ?? -1,
          closeOnError: false,
          framesPerBuffer: CHUNK_FRAMES,
          highwaterMark: CHUNK_FRAMES * 4,
        },
      });
      input = microphone;
      let samples = 0;
      let frames = 0;
      microphone.on('data', (chunk: Buffer) => {
        const audio = new Float32Array(
          chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength),
        );
        subscriber.next({ kind: 'audio', time: samples / SOURCE_SAMPLE_RATE, samples: audio });
        samples += audio.length;
        for (; frames / SOURCE_FRAME_RATE <= samples / SOURCE_SAMPLE_RATE; frames++) {
          subscriber.next({
            kind: 'frame',
            time: frames / SOURCE_FRAME_RATE,
            frame: BLACK_FRAME,
          });
        }
      });
      microphone.on('error', (error: Error) =>
        subscriber.error(new Error(`microphone failed: ${error.message}`)),
      );
      microphone.start();
    }).catch((error: Error) =>
      subscriber.error(new Error(`cannot open the microphone: ${error.message}`)),
    );
    return () => {
      closed = true;
      const opened = input;
      // A close that fails has no one left to tell; the next open still gets its turn.
      if (opened) inTurn(() => opened.quit()).catch(() => undefined);
    };
  });
}
