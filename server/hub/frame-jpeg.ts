/** An RGB24 frame as a JPEG (@napi-rs/canvas), for the dashboard's live picture. */
import { createCanvas } from '@napi-rs/canvas';
import type { RgbFrame } from '../features/video/rgb-frame.js';

export async function frameToJpeg(frame: RgbFrame, quality = 75): Promise<Buffer> {
  const canvas = createCanvas(frame.width, frame.height);
  const context = canvas.getContext('2d');
  const image = context.createImageData(frame.width, frame.height);
  for (let p = 0; p < frame.width * frame.height; p++) {
    image.data[4 * p] = frame.data[3 * p]!;
    image.data[4 * p + 1] = frame.data[3 * p + 1]!;
    image.data[4 * p + 2] = frame.data[3 * p + 2]!;
    image.data[4 * p + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return canvas.encode('jpeg', quality);
}
