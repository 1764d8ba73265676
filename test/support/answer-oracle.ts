/**
 * A second, independent reading of a synthetic scene's ground truth: given one question (template
 * id + values), work out its answer from the per-second truth JSON alone. Written apart from
 * server/synth/scene-questions.ts (which enumerates questions) so the two can check each other.
 */
import { MARGINS } from '../../server/synth/scene-questions.js';
import { countAnswer as count } from '../../shared/question-space/index.js';

interface Truth {
  venue: string;
  voiceover: unknown;
  performers: ReadonlyArray<{
    instrument: string;
    x: number | null;
    region: 'left' | 'middle' | 'right' | null;
    medianPitch: number | null;
    onsets: readonly number[];
    active: readonly boolean[];
    loudnessDb: readonly number[];
  }>;
}

type P = Truth['performers'][number];

const yn = (b: boolean) => (b ? 'yes' : 'no');

/** Thrown when the truth does not determine an answer. */
export class Undetermined extends Error {}
function must<T>(value: T | undefined | null | false, why: string): T {
  if (value === undefined || value === null || value === false) throw new Undetermined(why);
  return value;
}

const heard = (p: P) => p.active.includes(true);
const seen = (p: P) => p.x !== null;
const secondsOn = (p: P) => p.active.filter(Boolean).length;
const firstOnset = (p: P) => p.onsets[0]!;
function meanDb(p: P): number {
  const on = p.loudnessDb.filter((_, i) => p.active[i]);
  return 10 * Math.log10(on.reduce((s, db) => s + Math.pow(10, db / 10), 0) / on.length);
}
const rate = (p: P) => p.onsets.length / secondsOn(p);

function decide(a: number, b: number, margin: number, multiplicative: boolean): string {
  const aWins = multiplicative ? a >= b * margin : a - b >= margin;
  const bWins = multiplicative ? b >= a * margin : b - a >= margin;
  return yn(must(aWins || bWins, 'too close') && aWins);
}

function louder(a: P, b: P) {
  must(heard(a) && heard(b) && a !== b, 'not both heard');
  return decide(meanDb(a), meanDb(b), MARGINS.loudnessDb, false);
}
function moreRhythmic(a: P, b: P) {
  must(heard(a) && heard(b) && a !== b, 'not both heard');
  return decide(rate(a), rate(b), MARGINS.onsetRateRatio, true);
}

export function oracleAnswer(truth: Truth, templateId: string, values: string[]): string {
  const all = truth.performers;
  const onStage = all.filter(seen).sort((a, b) => a.x! - b.x!);
  const ofClass = (list: readonly P[], c: string) => list.filter((p) => p.instrument === c);
  const single = (list: readonly P[], why: string) => must(list.length === 1 && list[0], why);
  const inRegion = (r: string) =>
    single(
      onStage.filter((p) => p.region === r),
      `not one performer on the ${r}`,
    );
  const beside = (p: P, side: string) =>
    must(onStage[onStage.indexOf(p) + (side === 'left' ? -1 : 1)], 'nobody beside');
  const byEntry = onStage.filter(heard).sort((a, b) => firstOnset(a) - firstOnset(b));
  const clearlyNth = (k: number) => {
    const p = must(byEntry[k], 'no such entry');
    for (const q of [byEntry[k - 1], byEntry[k + 1]]) {
      if (q)
        must(Math.abs(firstOnset(q) - firstOnset(p)) >= MARGINS.entrySeconds, 'entries too close');
    }
    return p;
  };
  const firstOrLast = (which: string) => {
    must(byEntry.length > 1, 'one entry only');
    return clearlyNth(which === 'first' ? 0 : byEntry.length - 1);
  };
  const placeOf = (p: P) => {
    must(onStage.filter((q) => q.region === p.region).length === 1, 'region shared');
    return p.region!;
  };
  const [v0 = '', v1 = '', v2 = '', v3 = ''] = values;

  switch (templateId) {
    case 'audio-instruments-heard':
      return count(all.filter(heard).length);
    case 'audio-object-heard':
      return yn(ofClass(all, v0).some(heard));
    case 'audio-objects-heard':
      return yn(ofClass(all, v0).some(heard) && ofClass(all, v1).some(heard));
    case 'audio-louder':
      return louder(single(ofClass(all, v0), 'ambiguous'), single(ofClass(all, v1), 'ambiguous'));
    case 'audio-more-rhythmic':
      return moreRhythmic(
        single(ofClass(all, v0), 'ambiguous'),
        single(ofClass(all, v1), 'ambiguous'),
      );
    case 'audio-longer': {
      const [a, b] = [single(ofClass(all, v0), 'ambiguous'), single(ofClass(all, v1), 'ambiguous')];
      must(heard(a) && heard(b), 'not both heard');
      return decide(secondsOn(a), secondsOn(b), MARGINS.playSeconds, false);
    }
    case 'visual-object-seen':
      return yn(ofClass(onStage, v0).length > 0);
    case 'visual-objects-seen':
      return yn(ofClass(onStage, v0).length > 0 && ofClass(onStage, v1).length > 0);
    case 'visual-object-count':
      return count(ofClass(onStage, v0).length);
    case 'visual-type-count':
      return count(new Set(onStage.map((p) => p.instrument)).size);
    case 'visual-neighbour':
      return beside(single(ofClass(onStage, v1), 'ambiguous'), v0).instrument;
    case 'visual-outermost':
      must(onStage.length > 1, 'one performer');
      return (v0 === 'leftest' ? onStage[0] : onStage[onStage.length - 1])!.instrument;
    case 'visual-which-instrument':
      return single(onStage, 'not one performer').instrument;
    case 'visual-venue':
      return truth.venue;
    case 'av-always-playing': {
      const p = single(ofClass(onStage, v0), 'ambiguous');
      must(heard(p), 'silent');
      return yn(p.active.every(Boolean));
    }
    case 'av-voiceover':
      return yn(truth.voiceover !== null);
    case 'av-sound-in-view':
      return yn(all.filter((p) => !seen(p)).every((p) => !heard(p)));
    case 'av-sounding-count':
      return count(onStage.filter(heard).length);
    case 'av-silent-count':
      return count(onStage.filter((p) => !heard(p)).length);
    case 'av-sounding-object-count':
      return count(ofClass(onStage, v0).filter(heard).length);
    case 'av-sounding-type-count':
      return count(new Set(onStage.filter(heard).map((p) => p.instrument)).size);
    case 'av-sound-from-position':
      return yn(firstOrLast(v0).region === v1);
    case 'av-beside-sounding':
      return beside(firstOrLast(v1), v0).instrument;
    case 'av-where-loudest': {
      const sounding = onStage.filter(heard);
      const score = v0 === 'loudest' ? meanDb : (p: P) => -must(p.medianPitch, 'unpitched');
      if (v0 === 'lowest') sounding.forEach((p) => must(p.medianPitch !== null, 'unpitched'));
      const ranked = [...sounding].sort((a, b) => score(b) - score(a));
      must(ranked.length > 1, 'one sounding');
      const margin = v0 === 'loudest' ? MARGINS.loudnessDb : MARGINS.pitchSemitones;
      must(score(ranked[0]!) - score(ranked[1]!) >= margin, 'too close');
      return placeOf(ranked[0]!);
    }
    case 'av-same-time': {
      const p = single(ofClass(onStage, v0), 'ambiguous');
      must(heard(p), 'silent');
      const together = (q: P) => q.active.reduce((n, on, t) => n + (on && p.active[t] ? 1 : 0), 0);
      const others = onStage
        .filter((q) => q.instrument !== v0 && heard(q))
        .sort((a, b) => together(b) - together(a));
      must(others[0] && together(others[0]) > 0, 'nobody together');
      if (others[1]) must(together(others[0]!) - together(others[1]) >= 2, 'tie');
      return others[0]!.instrument;
    }
    case 'av-object-louder-at':
    case 'av-object-more-rhythmic-at': {
      const pick = (c: string, r: string) =>
        single(
          onStage.filter((p) => p.instrument === c && p.region === r),
          'ambiguous',
        );
      const [a, b] = [pick(v0, v1), pick(v2, v3)];
      return templateId === 'av-object-louder-at' ? louder(a, b) : moreRhythmic(a, b);
    }
    case 'av-position-louder':
      return louder(inRegion(v0), inRegion(v1));
    case 'av-position-more-rhythmic':
      return moreRhythmic(inRegion(v0), inRegion(v1));
    case 'av-entry-order':
      must(byEntry.length > 1, 'one entry only');
      return clearlyNth(['first', 'second', 'third', 'fourth', 'fifth'].indexOf(v0)).instrument;
    case 'av-where-first-sounding':
      return placeOf(firstOrLast(v0));
    case 'av-which-object-first': {
      const twins = byEntry.filter((p) => p.instrument === v0);
      must(twins.length > 1, 'fewer than two');
      if (twins.every((p) => firstOnset(p) === firstOnset(twins[0]!))) return 'simultaneously';
      const [p, q] = v1 === 'first' ? twins : [...twins].reverse();
      must(Math.abs(firstOnset(p!) - firstOnset(q!)) >= MARGINS.entrySeconds, 'too close');
      return placeOf(p!);
    }
    case 'av-before-after': {
      const p = single(ofClass(onStage, v1), 'ambiguous');
      const k = byEntry.indexOf(p);
      must(k >= 0, 'silent');
      clearlyNth(k);
      const q = clearlyNth(v0 === 'before' ? k - 1 : k + 1);
      must(q.instrument !== v1, 'same class');
      return q.instrument;
    }
    default:
      throw new Error(`oracle has no rule for ${templateId}`);
  }
}
