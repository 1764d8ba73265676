/**
 * Plans, renders and encodes scenes in batches: stems of a whole batch share FluidSynth runs,
 * then each scene is mixed, measured (ground truth), questioned and encoded to mp4.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { measureSceneTruth, type SceneTruth } from './ground-truth.js';
import { encodeVideo } from './encode-video.js';
import { mixStereo, normaliseLoudness, roomNoise, type MixSource } from './mixdown.js';
import { Random } from './random.js';
import { renderStems, STEM_RATE } from './render-stems.js';
import { planScene, type ScenePlan } from './scene-plan.js';
import { sceneQuestions, type SceneQuestion } from './scene-questions.js';
import { StageRenderer, type VideoFormat } from './stage-renderer.js';
import { speak } from './voiceover.js';
import type { SoundfontName } from './instrument-catalog.js';

export interface SynthOptions {
  readonly scenes: number;
  readonly seconds: number;
  readonly seed: number;
  readonly outDir: string;
  readonly video: VideoFormat;
  /** Scenes whose stems share FluidSynth runs. */
  readonly batchSize?: number;
  /** Index of the first scene (ids and random streams follow it). */
  readonly firstIndex?: number;
  /** Every stem in this soundfont instead of one drawn from the training three. */
  readonly soundfont?: SoundfontName;
}

export interface SynthesizedScene {
  readonly index: number;
  readonly truth: SceneTruth;
  readonly questions: SceneQuestion[];
}

export const sceneId = (index: number) => String(index + 1).padStart(8, '0');

async function synthesizeBatch(
  plans: ScenePlan[],
  options: SynthOptions,
  indices: number[],
): Promise<SynthesizedScene[]> {
  const { seconds } = options;
  const length = seconds * STEM_RATE;
  const stems = await renderStems(
    plans.flatMap((plan) =>
      plan.performers.map((performer) => ({ key: `${plan.id}/${performer.id}`, performer })),
    ),
    seconds,
  );
  const results: SynthesizedScene[] = [];
  for (const [k, plan] of plans.entries()) {
    const random = Random.forItem(options.seed ^ 0x2545f491, indices[k]!);
    const sceneStems = new Map(
      plan.performers.map((p) => [p.id, stems.get(`${plan.id}/${p.id}`)!]),
    );
    for (const performer of plan.performers)
      normaliseLoudness(sceneStems.get(performer.id)!, performer.gainDb, STEM_RATE);

    const sources: MixSource[] = plan.performers.map((p) => ({
      samples: sceneStems.get(p.id)!,
      x: p.x ?? 0.5,
    }));
    let voiceSeconds = 0;
    if (plan.voiceover) {
      const voice = await speak(plan.voiceover.text);
      normaliseLoudness(voice, -20, STEM_RATE);
      voiceSeconds = voice.length / STEM_RATE;
      sources.push({
        samples: voice,
        x: 0.5,
        offset: Math.round(plan.voiceover.start * STEM_RATE),
      });
    }
    if (plan.noiseDb !== null)
      sources.push({ samples: roomNoise(random, length, plan.noiseDb), x: 0.5 });
    const mix = mixStereo(sources, length);
    // Ground truth measures the parts exactly as they sound in the mix.
    for (const stem of sceneStems.values())
      for (let i = 0; i < stem.length; i++) stem[i]! *= mix.scale;

    const truth = measureSceneTruth(plan, sceneStems, STEM_RATE, voiceSeconds);
    const renderer = new StageRenderer(plan, options.video, random);
    await encodeVideo(path.join(options.outDir, 'videos', `${plan.id}.mp4`), renderer, {
      ...mix,
      sampleRate: STEM_RATE,
    });
    await writeFile(
      path.join(options.outDir, 'truth', `${plan.id}.json`),
      JSON.stringify({ ...truth, video: options.video }, null, 1),
    );
    results.push({ index: indices[k]!, truth, questions: sceneQuestions(truth) });
  }
  return results;
}

/** Synthesizes scenes firstIndex … firstIndex + scenes − 1, reporting progress per batch. */
export async function synthesizeScenes(
  options: SynthOptions,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<SynthesizedScene[]> {
  await mkdir(path.join(options.outDir, 'videos'), { recursive: true });
  await mkdir(path.join(options.outDir, 'truth'), { recursive: true });
  const batchSize = options.batchSize ?? 25;
  const first = options.firstIndex ?? 0;
  const results: SynthesizedScene[] = [];
  for (let start = 0; start < options.scenes; start += batchSize) {
    const indices = Array.from(
      { length: Math.min(batchSize, options.scenes - start) },
      (_, k) => first + start + k,
    );
    const plans = indices.map((index) =>
      planScene(Random.forItem(options.seed, index), sceneId(index), {
        seconds: options.seconds,
        ...(options.soundfont && { soundfont: options.soundfont }),
      }),
    );
    results.push(...(await synthesizeBatch(plans, options, indices)));
    onProgress(results.length, options.scenes);
  }
  return results;
}
