import type { TFunction } from 'i18next';
import type { Language } from '../i18n';
import { words } from '../knowledge/knowledge';
import type { FlowContext } from './context';

export type Keyword = 'stop' | 'start' | 'menu' | 'language' | 'original' | 'helpAlone';

const fold = (s: string) => s.normalize('NFKC').toLocaleLowerCase().replace(/^[\s/!.¡¿?،。！？-]+|[\s!.?،。！？-]+$/gu, '');

/** True when her whole message is one of the keyword's words in her language (or the English word). */
export function isKeyword(t: TFunction, keyword: Keyword, text: string): boolean {
  const said = fold(text);
  if (!said) return false;
  const words = new Set([keyword, ...t(`keywords.${keyword}`).split('|').map(fold)]);
  return words.has(said);
}

/** A code a tutor gave her, alone in the message or after Telegram's /start: 8 letters and digits. */
export function codeIn(text: string): string | undefined {
  const m = /^(?:\/start\s+)?([A-Za-z0-9]{8})$/.exec(text.trim());
  if (!m || !/\d/.test(m[1]!) || !/[A-Za-z]/.test(m[1]!)) return undefined;
  return m[1]!.toUpperCase();
}

/** Case, Latin accents and apostrophe variants folded, so "perdhunim" finds "përdhunim" and ’ finds '. */
const foldPhrase = (s: string) => s.normalize('NFKC').toLocaleLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').normalize('NFC').replace(/[’ʼ`´]/g, "'");

/** The phrase of the list in her language (or Italian or English) that her message contains, if any: the lists are in locales, keywords.<list>. */
export function phraseIn(ctx: FlowContext, text: string, list: 'eviction' | 'help'): string | undefined {
  if (!text) return undefined;
  const folded = foldPhrase(text);
  const said = ` ${words(folded, ctx.contact.language).join(' ')} `;
  for (const lng of new Set([ctx.contact.language, 'it', 'en'] as Language[])) {
    for (const phrase of ctx.deps.i18n.t(lng)(`keywords.${list}`).split('|')) {
      const p = foldPhrase(phrase.trim());
      if (!p) continue;
      // scripts written without spaces (Chinese): the phrase as it stands; others: whole words
      if (/\p{Script=Han}/u.test(p) ? folded.includes(p) : said.includes(` ${words(p, lng).join(' ')} `)) return p;
    }
  }
  return undefined;
}

export const hasPhrase = (ctx: FlowContext, text: string, list: 'eviction' | 'help'): boolean => phraseIn(ctx, text, list) !== undefined;

/** Her words beyond the phrase, courtesy aside (`keywords.courtesy`: "please", "ju lutem"): "I need help, the rent is late" says more than "I need help". */
export function wordsBeyond(ctx: FlowContext, text: string, phrase: string): number {
  // Chinese has no spaces: two characters make about one word
  if (/\p{Script=Han}/u.test(phrase)) return Math.floor([...foldPhrase(text).replace(phrase, '').replace(/[\s\p{P}\p{S}]/gu, '')].length / 2);
  const lng = ctx.contact.language;
  const courtesy = new Set(ctx.t('keywords.courtesy').split('|').flatMap((c) => words(foldPhrase(c), lng)));
  const own = new Set(words(foldPhrase(phrase), lng));
  return words(foldPhrase(text), lng).filter((w) => !own.has(w) && !courtesy.has(w)).length;
}

/** "Help!", "I need help, please": a plea that names no topic (`keywords.helpAlone` as the whole message, or a help phrase and at most two more words). */
export function isHelpPlea(ctx: FlowContext, text: string): boolean {
  if (isKeyword(ctx.t, 'helpAlone', text)) return true;
  const phrase = phraseIn(ctx, text, 'help');
  return phrase !== undefined && wordsBeyond(ctx, text, phrase) <= 2;
}
