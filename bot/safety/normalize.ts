/**
 * Text as the danger matcher compares it: one form for the many ways the same word is typed. Applied alike to
 * her message and to the lexicons' terms, so a reviewer writes a word once, the way it is spelt.
 */

const DIGIT_BLOCKS = [0x0660, 0x06f0, 0x09e6, 0x0966, 0x0de6, 0xff10];

/** Arabic-Indic, Persian, Bengali, Devanagari, Sinhala and full-width digits → 0–9. */
function asciiDigits(s: string): string {
  return s.replace(/[\u0660-\u0669\u06f0-\u06f9\u09e6-\u09ef\u0966-\u096f\u0de6-\u0def\uff10-\uff19]/g, (d) => {
    const code = d.charCodeAt(0);
    const base = DIGIT_BLOCKS.find((b) => code >= b && code <= b + 9)!;
    return String(code - base);
  });
}

/** Latin letters typed inside a Cyrillic word (a Latin "i" for "і") → the Cyrillic letter they look like. */
const LATIN_IN_CYRILLIC: Record<string, string> = { a: 'а', c: 'с', e: 'е', i: 'і', o: 'о', p: 'р', x: 'х', y: 'у', k: 'к', m: 'м', h: 'н', t: 'т', b: 'в' };

function cyrillicWord(word: string): string {
  if (!/\p{Script=Cyrillic}/u.test(word)) return word;
  return word
    .replace(/[acehikmoptxyb]/g, (ch) => LATIN_IN_CYRILLIC[ch] ?? ch)
    .replace(/ё/g, 'е')
    .replace(/ґ/g, 'г');
}

/**
 * Lower case; Latin accents dropped (perché = perche, përdhunim = perdhunim); Arabic-script letter variants,
 * harakat and tatweel folded (Urdu ی ک ہ ھ with their Arabic twins); zero-width joiners dropped (Sinhala
 * ප්‍ර = ප්ර); native digits as 0–9; apostrophes split Latin words (m'a → m a) and vanish inside others (б'є → бє);
 * a letter repeated three times or more counts once ("aiutooo").
 */
export function normalizeText(text: string): string {
  let s = text.normalize('NFKC').toLowerCase();
  s = s.normalize('NFD').replace(/(\p{Script=Latin})[\u0300-\u036f]+/gu, '$1').normalize('NFC');
  s = s
    .replace(/[\u064B-\u065F\u0670\u0640]/g, '')
    .replace(/[أإآٱ]/g, 'ا')
    .replace(/[ىیيئ]/g, 'ي')
    .replace(/ؤ/g, 'و')
    .replace(/[كک]/g, 'ك')
    .replace(/[ةہھ]/g, 'ه')
    .replace(/ۀ/g, 'ه')
    .replace(/[\u200B-\u200D\uFEFF]/g, '');
  s = asciiDigits(s);
  s = s.replace(/[’ʼ`´′‘]/g, "'");
  s = s.replace(/(\p{Script=Latin})'(?=\p{Script=Latin})/gu, '$1 ').replace(/'/g, '');
  s = s.replace(/(\p{L})\1{2,}/gu, '$1');
  return s;
}

const TOKEN = /\p{Script=Han}|(?:(?!\p{Script=Han})[\p{L}\p{M}\p{N}])+/gu;

/** Words, each Chinese character on its own (Chinese is written without spaces: a term is a run of characters). */
export function tokenize(normalized: string): string[] {
  return (normalized.match(TOKEN) ?? []).map(cyrillicWord);
}
