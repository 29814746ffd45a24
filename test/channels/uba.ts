/** The bidi control characters, spelled out for tests: they say what the output must contain. */
export const LRI = '\u2066';
export const RLI = '\u2067';
export const FSI = '\u2068';
export const PDI = '\u2069';
export const RLM = '\u200F';
export const LRM = '\u200E';

const isLetter = (ch: string) => /\p{L}/u.test(ch);

/**
 * UBA rules P2–P3 for one paragraph, written for the tests (JS has no \p{Bidi_Class}): the first strong character
 * outside isolates. Arabic-script letters are AL and Hebrew letters R (both 'R' here), Latin letters L; isolate contents
 * are skipped; 'none' is where P3 falls back to the renderer's default.
 */
export function paragraphDirection(paragraph: string): 'L' | 'R' | 'none' {
  let depth = 0;
  for (const ch of paragraph) {
    if (ch === LRI || ch === RLI || ch === FSI) depth++;
    else if (ch === PDI) depth = Math.max(0, depth - 1);
    else if (depth > 0) continue;
    else if (ch === RLM || (isLetter(ch) && /[\p{Script=Arabic}\p{Script=Hebrew}]/u.test(ch))) return 'R';
    else if (ch === LRM || (isLetter(ch) && /\p{Script=Latin}/u.test(ch))) return 'L';
  }
  return 'none';
}

/** The paragraphs of a message (UBA P1: a line break ends one), blank ones left out. */
export const paragraphs = (text: string) => text.split('\n').filter((p) => p.trim() !== '');
