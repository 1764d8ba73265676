/** The image frontend_fixtures.py draws: gradient, hard-edged checkerboard, hashed noise (RGB24). */
export function patternImage(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = Math.floor(
        (Math.floor((x * 255) / Math.max(width - 1, 1)) +
          Math.floor((y * 255) / Math.max(height - 1, 1))) /
          2,
      );
      rgb[i + 1] = (Math.floor(x / 40) + Math.floor(y / 40)) % 2 === 1 ? 255 : 30;
      const hashed = (Math.imul(x, 73856093) ^ Math.imul(y, 19349663)) >>> 0;
      rgb[i + 2] = Math.imul(hashed, 2654435761) >>> 24;
    }
  }
  return rgb;
}
