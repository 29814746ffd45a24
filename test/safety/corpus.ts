import { readFileSync } from 'node:fs';
import { LANGUAGES, type Language } from '../../bot/i18n';
import type { Concept } from '../../bot/safety/lexicon';
import type { DangerMatcher } from '../../bot/safety/matcher';

/** Messages written as mothers write, by people who did not see the lexicons (test/safety/corpus/<lang>.json). */
export interface CorpusMessage {
  text: string;
  concept?: Concept;
  near_miss?: string;
}
export interface Corpus {
  language: Language;
  danger: CorpusMessage[];
  ordinary: CorpusMessage[];
  /** never used to tune the lexicons: reported by the bench only */
  heldout: { danger: CorpusMessage[]; ordinary: CorpusMessage[] };
}

export function readCorpus(lng: Language): Corpus {
  return JSON.parse(readFileSync(new URL(`./corpus/${lng}.json`, import.meta.url), 'utf8')) as Corpus;
}
export const readCorpora = () => LANGUAGES.map(readCorpus);

export interface Score {
  language: Language;
  danger: number;
  caught: number;
  ordinary: number;
  alarms: number;
  recall: number;
  falseAlarms: number;
  missed: CorpusMessage[];
  raised: CorpusMessage[];
  /** per concept: [caught, total] */
  concepts: Partial<Record<Concept, [number, number]>>;
  /** self-harm heard as self-harm, of self-harm messages caught */
  selfHarmRight: [number, number];
}

/** Recall over the danger messages and false alarms over the ordinary ones; a message heard at either level counts. */
export function score(matcher: DangerMatcher, lng: Language, danger: CorpusMessage[], ordinary: CorpusMessage[]): Score {
  const missed: CorpusMessage[] = [];
  const raised: CorpusMessage[] = [];
  const concepts: Score['concepts'] = {};
  const selfHarmRight: [number, number] = [0, 0];
  for (const m of danger) {
    const a = matcher.assess(m.text, [lng]);
    const c = (concepts[m.concept!] ??= [0, 0]);
    c[1]++;
    if (a.level === 'none') missed.push(m);
    else {
      c[0]++;
      if (m.concept === 'self_harm') {
        selfHarmRight[1]++;
        if (a.concepts.includes('self_harm')) selfHarmRight[0]++;
      }
    }
  }
  for (const m of ordinary) if (matcher.assess(m.text, [lng]).level !== 'none') raised.push(m);
  const caught = danger.length - missed.length;
  return {
    language: lng, danger: danger.length, caught, ordinary: ordinary.length, alarms: raised.length,
    recall: caught / danger.length, falseAlarms: raised.length / ordinary.length, missed, raised, concepts, selfHarmRight,
  };
}
