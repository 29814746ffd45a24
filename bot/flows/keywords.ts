import type { TFunction } from 'i18next';

export type Keyword = 'stop' | 'start' | 'menu' | 'language' | 'original';

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
