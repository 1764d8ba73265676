/**
 * Draws a scene's video frame by frame (@napi-rs/canvas): a stage (indoor hall or outdoor lawn)
 * with each visible performer and their instrument where they stand. A performer who is playing
 * sways and moves their arm (bow, strum, beat); one who is not stands still.
 */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { INSTRUMENT_VOICES, type Glyph } from './instrument-catalog.js';
import type { Random } from './random.js';
import type { PerformerPlan, ScenePlan } from './scene-plan.js';

export interface VideoFormat {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

interface Figure {
  readonly performer: PerformerPlan;
  readonly shirt: string;
  readonly phase: number;
}

const SHIRTS = [
  '#3b5998',
  '#8e44ad',
  '#2c3e50',
  '#16a085',
  '#7f8c8d',
  '#c0392b',
  '#d35400',
  '#27ae60',
];

function isPlaying(performer: PerformerPlan, time: number): boolean {
  return performer.notes.some(
    (note) => time >= note.time && time < note.time + Math.max(note.duration, 0.25),
  );
}

function drawBackdrop(
  ctx: SKRSContext2D,
  venue: ScenePlan['venue'],
  width: number,
  height: number,
): void {
  const horizon = height * 0.62;
  const sky = ctx.createLinearGradient(0, 0, 0, horizon);
  if (venue === 'indoor') {
    sky.addColorStop(0, '#3a2a20');
    sky.addColorStop(1, '#6b4f3a');
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, width, horizon);
    ctx.fillStyle = '#8b5a2b'; // wooden stage
    ctx.fillRect(0, horizon, width, height - horizon);
    ctx.strokeStyle = '#6e4520';
    for (let y = horizon + 8; y < height; y += 10) {
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(width, y);
      ctx.stroke();
    }
  } else {
    sky.addColorStop(0, '#87ceeb');
    sky.addColorStop(1, '#d8f0ff');
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, width, horizon);
    ctx.fillStyle = '#4caf50'; // lawn
    ctx.fillRect(0, horizon, width, height - horizon);
    ctx.fillStyle = '#2e7d32';
    ctx.beginPath();
    ctx.arc(width * 0.08, horizon - height * 0.12, height * 0.12, 0, Math.PI * 2);
    ctx.fill();
  }
}

function ellipse(
  ctx: SKRSContext2D,
  x: number,
  y: number,
  rx: number,
  ry: number,
  color: string,
  rotation = 0,
): void {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.ellipse(x, y, rx, ry, rotation, 0, Math.PI * 2);
  ctx.fill();
}

function rect(ctx: SKRSContext2D, x: number, y: number, w: number, h: number, color: string): void {
  ctx.fillStyle = color;
  ctx.fillRect(x, y, w, h);
}

function line(
  ctx: SKRSContext2D,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  color: string,
  width: number,
): void {
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  ctx.lineTo(x2, y2);
  ctx.stroke();
}

/** A bow `half` units either side of centre, slid sideways by `sway` (units of `u`). */
function bow(
  ctx: SKRSContext2D,
  u: number,
  half: number,
  [y0, y1]: [number, number],
  sway: number,
  width: number,
): void {
  line(ctx, (-half + sway) * u, y0 * u, (half + sway) * u, y1 * u, '#ddd', width * u);
}

/** The instrument, centred at (0, 0), `u` pixels per unit; `motion` in −1…1 while playing. */
function drawGlyph(
  ctx: SKRSContext2D,
  glyph: Glyph,
  color: string,
  u: number,
  motion: number,
): void {
  switch (glyph) {
    case 'bowed':
    case 'cello': {
      const tall = glyph === 'cello' ? 1.6 : 1;
      ellipse(ctx, 0, 0.25 * u * tall, 0.32 * u, 0.22 * u * tall, color);
      ellipse(ctx, 0, -0.1 * u * tall, 0.24 * u, 0.18 * u * tall, color);
      rect(ctx, -0.04 * u, -0.75 * u * tall, 0.08 * u, 0.6 * u * tall, '#2b1a0e');
      bow(ctx, u, 0.6, [0.05, 0.15], motion * 0.25, 0.04);
      break;
    }
    case 'erhu':
      rect(ctx, -0.03 * u, -0.9 * u, 0.06 * u, 1.0 * u, '#3b2410');
      ellipse(ctx, 0, 0.15 * u, 0.14 * u, 0.1 * u, color);
      bow(ctx, u, 0.5, [0.05, 0.05], motion * 0.2, 0.03);
      break;
    case 'guitar':
    case 'banjo':
    case 'lute':
    case 'bass': {
      ctx.save();
      ctx.rotate(-0.5);
      if (glyph === 'banjo') ellipse(ctx, 0, 0.15 * u, 0.3 * u, 0.3 * u, color);
      else if (glyph === 'lute') ellipse(ctx, 0, 0.1 * u, 0.24 * u, 0.36 * u, color);
      else if (glyph === 'bass') rect(ctx, -0.2 * u, -0.1 * u, 0.4 * u, 0.5 * u, color);
      else {
        ellipse(ctx, 0, 0.25 * u, 0.3 * u, 0.25 * u, color);
        ellipse(ctx, 0, -0.05 * u, 0.22 * u, 0.18 * u, color);
        ellipse(ctx, 0, 0.1 * u, 0.07 * u, 0.07 * u, '#2b1a0e');
      }
      const neck = glyph === 'bass' ? 1.1 : 0.8;
      rect(ctx, -0.04 * u, -neck * u, 0.08 * u, 0.7 * u, '#3b2410');
      ctx.restore();
      line(ctx, 0.25 * u, 0.1 * u, 0.05 * u, (0.15 + 0.1 * motion) * u, '#f1c27d', 0.07 * u); // strumming hand
      break;
    }
    case 'rod':
    case 'bassoon':
    case 'suona': {
      const length = glyph === 'bassoon' ? 1.3 : 0.9;
      ctx.save();
      ctx.rotate(glyph === 'bassoon' ? -0.2 : 0.45);
      rect(ctx, -0.04 * u, -0.3 * u, 0.08 * u, length * u, color);
      if (glyph === 'suona') ellipse(ctx, 0, (length - 0.3) * u, 0.16 * u, 0.08 * u, '#b8860b');
      ctx.restore();
      ellipse(ctx, 0.02 * u, (0.2 + 0.04 * motion) * u, 0.06 * u, 0.06 * u, '#f1c27d'); // fingers
      break;
    }
    case 'bagpipe':
      ellipse(ctx, 0, 0.1 * u, 0.3 * u, 0.22 * u, color);
      for (const dx of [-0.2, 0, 0.15]) rect(ctx, dx * u, -0.7 * u, 0.05 * u, 0.7 * u, '#222');
      ellipse(ctx, 0, 0.1 * u, 0.3 * u * (1 - 0.06 * Math.abs(motion)), 0.22 * u, color);
      break;
    case 'trumpet':
      rect(ctx, -0.1 * u, -0.05 * u, 0.6 * u, 0.08 * u, color);
      ellipse(ctx, 0.55 * u, -0.01 * u, 0.08 * u, 0.16 * u, color);
      rect(ctx, 0.05 * u, (-0.15 + 0.03 * motion) * u, 0.2 * u, 0.1 * u, color);
      break;
    case 'sax':
      ctx.strokeStyle = color;
      ctx.lineWidth = 0.12 * u;
      ctx.beginPath();
      ctx.moveTo(-0.05 * u, -0.5 * u);
      ctx.lineTo(-0.05 * u, 0.3 * u);
      ctx.quadraticCurveTo(0, 0.55 * u, 0.25 * u, 0.2 * u);
      ctx.stroke();
      ellipse(ctx, 0.27 * u, 0.15 * u, 0.1 * u, 0.07 * u, color);
      ellipse(ctx, -0.05 * u, (0.05 + 0.05 * motion) * u, 0.06 * u, 0.06 * u, '#f1c27d');
      break;
    case 'tuba':
      ellipse(ctx, 0, 0.1 * u, 0.38 * u, 0.38 * u, color);
      ellipse(ctx, 0, 0.1 * u, 0.2 * u, 0.2 * u, '#8b6914');
      ellipse(ctx, 0.15 * u, -0.45 * u, 0.25 * u, 0.1 * u * (1 + 0.1 * motion), color);
      break;
    case 'piano':
      rect(ctx, -0.7 * u, -0.3 * u, 1.4 * u, 0.5 * u, color);
      rect(ctx, -0.65 * u, -0.05 * u, 1.3 * u, 0.12 * u, '#f5f5f5');
      for (let k = 0; k < 12; k++)
        rect(ctx, (-0.62 + k * 0.11) * u, -0.05 * u, 0.05 * u, 0.07 * u, '#111');
      rect(ctx, (-0.3 + 0.2 * motion) * u, -0.12 * u, 0.12 * u, 0.08 * u, '#f1c27d'); // hands
      break;
    case 'accordion': {
      const squeeze = 1 + 0.25 * motion;
      rect(ctx, -0.3 * u * squeeze, -0.25 * u, 0.6 * u * squeeze, 0.5 * u, color);
      for (let k = -2; k <= 2; k++)
        line(
          ctx,
          k * 0.1 * u * squeeze,
          -0.25 * u,
          k * 0.1 * u * squeeze,
          0.25 * u,
          '#222',
          0.02 * u,
        );
      break;
    }
    case 'xylophone':
      for (let k = 0; k < 8; k++)
        rect(
          ctx,
          (-0.6 + k * 0.15) * u,
          (-0.2 + k * 0.02) * u,
          0.12 * u,
          (0.4 - k * 0.04) * u,
          color,
        );
      ellipse(ctx, (-0.3 + 0.4 * motion) * u, -0.3 * u, 0.05 * u, 0.05 * u, '#eee');
      break;
    case 'zither':
      ctx.save();
      ctx.rotate(0.1);
      rect(ctx, -0.8 * u, -0.12 * u, 1.6 * u, 0.24 * u, color);
      for (let k = 0; k < 6; k++)
        line(
          ctx,
          -0.75 * u,
          (-0.09 + k * 0.035) * u,
          0.75 * u,
          (-0.09 + k * 0.035) * u,
          '#eee',
          0.01 * u,
        );
      ctx.restore();
      ellipse(ctx, 0.2 * motion * u, -0.05 * u, 0.07 * u, 0.05 * u, '#f1c27d');
      break;
    case 'kit':
      ellipse(ctx, 0, 0.2 * u, 0.35 * u, 0.3 * u, color);
      ellipse(ctx, -0.5 * u, -0.05 * u, 0.2 * u, 0.08 * u, '#ccc');
      ellipse(ctx, 0.5 * u, -0.25 * u, 0.25 * u, 0.05 * u, '#d4af37');
      line(ctx, -0.2 * u, -0.5 * u, -0.45 * u, (-0.1 - 0.2 * motion) * u, '#deb887', 0.04 * u);
      break;
    case 'congas':
      for (const dx of [-0.22, 0.22]) {
        rect(ctx, (dx - 0.15) * u, -0.2 * u, 0.3 * u, 0.7 * u, color);
        ellipse(ctx, dx * u, -0.2 * u, 0.15 * u, 0.05 * u, '#f5deb3');
      }
      ellipse(
        ctx,
        (-0.22 + 0.1 * motion) * u,
        (-0.3 - 0.05 * Math.abs(motion)) * u,
        0.07 * u,
        0.05 * u,
        '#f1c27d',
      );
      break;
  }
}

function drawFigure(ctx: SKRSContext2D, figure: Figure, format: VideoFormat, time: number): void {
  const { performer } = figure;
  const voice = INSTRUMENT_VOICES[performer.instrument];
  const playing = isPlaying(performer, time);
  const motion = playing ? Math.sin(2 * Math.PI * 2 * time + figure.phase) : 0;
  const unit = format.height / 5;
  const x = performer.x! * format.width;
  const floor = format.height * 0.85;
  ctx.save();
  ctx.translate(x, floor);
  ctx.rotate(0.06 * motion);
  ellipse(ctx, 0, -1.05 * unit, 0.28 * unit, 0.5 * unit, figure.shirt); // body
  ellipse(ctx, 0, -1.75 * unit, 0.2 * unit, 0.22 * unit, '#f1c27d'); // head
  ctx.translate(0, -0.9 * unit + 0.04 * unit * motion);
  drawGlyph(ctx, voice.glyph, voice.color, unit * voice.size * 0.8, motion);
  ctx.restore();
}

/** Renders RGBA frames of a scene, one per call, in order. */
export class StageRenderer {
  private readonly canvas;
  private readonly ctx;
  private readonly figures: Figure[];

  constructor(
    private readonly plan: ScenePlan,
    readonly format: VideoFormat,
    random: Random,
  ) {
    this.canvas = createCanvas(format.width, format.height);
    this.ctx = this.canvas.getContext('2d');
    this.figures = plan.performers
      .filter((performer) => performer.x !== null)
      .map((performer) => ({
        performer,
        shirt: random.pick(SHIRTS),
        phase: random.range(0, Math.PI * 2),
      }));
  }

  get frameCount(): number {
    return Math.round(this.plan.seconds * this.format.fps);
  }

  /** RGBA bytes of frame `index` (time index / fps). */
  frame(index: number): Uint8Array {
    const time = index / this.format.fps;
    const { ctx, format } = this;
    drawBackdrop(ctx, this.plan.venue, format.width, format.height);
    for (const figure of this.figures) drawFigure(ctx, figure, format, time);
    const image = ctx.getImageData(0, 0, format.width, format.height);
    return new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  }
}
