/** The part of naudiodon (PortAudio for Node; it ships no types) that Tutti uses. */
declare module 'naudiodon' {
  import type { Readable } from 'node:stream';

  export const SampleFormatFloat32: number;

  export interface InOptions {
    channelCount: number;
    sampleFormat: number;
    sampleRate: number;
    deviceId: number;
    closeOnError: boolean;
    framesPerBuffer?: number;
    highwaterMark?: number;
  }

  export interface AudioInput extends Readable {
    start(): void;
    /** Stops, closes and terminates PortAudio on a libuv thread; resolves when done. */
    quit(callback?: () => void): Promise<void>;
  }

  export const AudioIO: new (options: { inOptions: InOptions }) => AudioInput;

  export function getDevices(): Array<{
    id: number;
    name: string;
    maxInputChannels: number;
    hostAPIName: string;
    defaultSampleRate: number;
  }>;
}
