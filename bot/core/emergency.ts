import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TFunction } from 'i18next';
import type { Language } from '../i18n';
import { SAFETY_DIR, type Concept } from '../safety/lexicon';
import { languageName } from './format';

/** Languages the 1522 line speaks (italy.md, "Numbers and services"); for the others her tutor brings a mediator. */
export const LANGUAGES_1522 = new Set(['it', 'en', 'fr', 'es', 'ar', 'fa', 'sq', 'ru', 'uk', 'pt', 'pl']);

/** A listening line for someone who wants to die: data, with its source and whether its hours are confirmed. */
interface ListeningLine {
  name: string;
  phone: string;
  hours: string;
  unverified: boolean;
}
let line: ListeningLine | undefined;
const listeningLine = (): ListeningLine => (line ??= (JSON.parse(readFileSync(join(SAFETY_DIR, 'lines.json'), 'utf8')) as { listening: ListeningLine }).listening);

/** 112, 1522 (and whether it speaks her language) and 114, in her language. */
export function emergencyText(t: TFunction, lng: Language): string {
  const line1522 = LANGUAGES_1522.has(lng) ? t('needs.emergency1522Speaks', { language: languageName(lng, lng) }) : t('needs.emergency1522Mediator');
  return [t('needs.emergencyHead'), t('needs.emergency112'), t('needs.emergency1522'), line1522, t('needs.emergency114')].join('\n');
}

/** For a woman who wants to die or to hurt herself: 112 and someone to talk to, never a menu. */
export function selfHarmText(t: TFunction): string {
  const l = listeningLine();
  return [t('safety.selfHead'), t('safety.self112'), t('safety.selfLine', { name: l.name, phone: l.phone, hours: l.hours }), ...(l.unverified ? [t('safety.selfLineCheck')] : [])].join('\n');
}

/** The numbers for what was heard: violence and a child in danger, wanting to die, or both. */
export function numbersFor(t: TFunction, lng: Language, concepts: Concept[]): string {
  if (!concepts.includes('self_harm')) return emergencyText(t, lng);
  if (concepts.every((c) => c === 'self_harm')) return selfHarmText(t);
  const l = listeningLine();
  return [emergencyText(t, lng), t('safety.selfLine', { name: l.name, phone: l.phone, hours: l.hours })].join('\n');
}
