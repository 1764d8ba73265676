/** A decoded video frame: packed 8-bit RGB (ffmpeg's rgb24), row-major, no padding. */
export interface RgbFrame {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A small black picture: what a source without one (a microphone) shows. */
export const BLACK_FRAME: RgbFrame = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3) };

export class VideoInputError extends Error {
  override name = 'VideoInputError';
}

export function assertRgbFrame(frame: RgbFrame): void {
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new VideoInputError(`frame size must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new VideoInputError(
      `frame of ${width}×${height} RGB needs ${width * height * 3} bytes, got ${data.length}`,
    );
  }
}
