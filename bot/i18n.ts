import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n, type TFunction } from 'i18next';

/** The 13 interface languages, in the order they are offered (italy.md, "Languages"). */
export const LANGUAGES = ['it', 'ar', 'tl', 'zh', 'es', 'si', 'ro', 'uk', 'sq', 'bn', 'en', 'fr', 'ur'] as const;
export type Language = (typeof LANGUAGES)[number];
export const isLanguage = (x: unknown): x is Language => typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);

export const LOCALES_DIR = fileURLToPath(new URL('../locales/', import.meta.url));

export function loadLocaleFiles(dir = LOCALES_DIR): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    out[f.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
  }
  return out;
}

export type TextDirection = 'ltr' | 'rtl';

/** The interface languages written right to left; the same two i18next calls "rtl". */
export const RTL_LANGUAGES: readonly Language[] = ['ar', 'ur'];
export const textDirection = (lng: string): TextDirection => ((RTL_LANGUAGES as readonly string[]).includes(lng) ? 'rtl' : 'ltr');

export interface Translator {
  /** A t() fixed to one person's language; never the global changeLanguage. In ar and ur every interpolated value comes isolated. */
  t(lng: Language): TFunction;
  dir(lng: Language): TextDirection;
  /** the instance for left-to-right languages (values as given) */
  instance: i18n;
}

type Resources = Record<string, { translation: Record<string, unknown> }>;

function i18nInstance(resources: Resources, interpolation: { escapeValue: boolean; escape?: (value: string) => string }): i18n {
  const instance = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources,
    supportedLngs: [...LANGUAGES],
    fallbackLng: 'it',
    interpolation,
    returnNull: false,
  });
  return instance;
}

/** "$t(key, {…})" as i18next matches it: quoted strings and one level of parentheses inside. */
const NESTING = /\$t\((?:[^()"']|"[^"]*"|'[^']*'|\((?:[^()"']|"[^"]*"|'[^']*')*\))*?\)/g;
const ISOLATED_JSON_NUMBER = /([:,[]\s*)[\u2066-\u2068](-?\d+(?:\.\d+)?)\u2069/g;

/**
 * i18next interpolates the options of "$t(key, {"count": {{count}}})" before parsing them as JSON: an isolated number
 * there is not JSON, so it is unwrapped (the nested key isolates it again when it shows it, and its plural gets the number).
 */
function keepNestedNumbersBare(instance: i18n): void {
  const interpolator = instance.services.interpolator;
  const nest = interpolator.nest.bind(interpolator);
  interpolator.nest = (str, fc, options) => nest(str.replace(NESTING, (call) => call.replace(ISOLATED_JSON_NUMBER, '$1$2')), fc, options);
}

/** Loads every locale once at start; the core gets it as a dependency. */
export function createTranslator(dir = LOCALES_DIR): Translator {
  const resources: Resources = Object.fromEntries(Object.entries(loadLocaleFiles(dir)).map(([lng, res]) => [lng, { translation: res }]));
  // chats are plain text: no HTML entities; a channel escapes what it must
  const instance = i18nInstance(resources, { escapeValue: false });
  // in a right-to-left sentence a Latin name, code or number is isolated once here, so no call site has to;
  // plural forms still read the numeric count from the options, before any escaping
  const rtl = i18nInstance(resources, { escapeValue: true, escape: isolate });
  keepNestedNumbersBare(rtl);
  return {
    t: (lng) => (textDirection(lng) === 'rtl' ? rtl : instance).getFixedT(lng),
    dir: (lng) => textDirection(lng),
    instance,
  };
}

// ---------------------------------------------------------------------------
// Bidirectional text (Unicode Bidi Algorithm, UAX #9)
// ---------------------------------------------------------------------------

export const BIDI = {
  /** LEFT-TO-RIGHT ISOLATE */
  LRI: '\u2066',
  /** RIGHT-TO-LEFT ISOLATE */
  RLI: '\u2067',
  /** FIRST STRONG ISOLATE: direction from its own first strong character (X5c) */
  FSI: '\u2068',
  /** POP DIRECTIONAL ISOLATE */
  PDI: '\u2069',
  /** RIGHT-TO-LEFT MARK: an invisible strong R character (not ALM, which would make the European digits after it Arabic numbers, W2) */
  RLM: '\u200F',
  LRM: '\u200E',
  /** ARABIC LETTER MARK: strong AL */
  ALM: '\u061C',
} as const;

const OPENS_ISOLATE = new Set<string>([BIDI.LRI, BIDI.RLI, BIDI.FSI]);
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
const RTL_SCRIPT = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;

/** Strong direction of one character, as P2 sees it: letters of right-to-left scripts and RLM/ALM are R (or AL), other letters and LRM are L. */
function strongClass(ch: string): 'L' | 'R' | null {
  if (ch === BIDI.RLM || ch === BIDI.ALM) return 'R';
  if (ch === BIDI.LRM) return 'L';
  if (!LETTER.test(ch)) return null;
  return RTL_SCRIPT.test(ch) ? 'R' : 'L';
}

/** Each character outside isolates, with its offset (what P2 looks at: isolate initiators, their contents and PDIs skipped). */
function* outsideIsolates(text: string): Generator<[string, number]> {
  let depth = 0;
  let at = 0;
  for (const ch of text) {
    if (OPENS_ISOLATE.has(ch)) depth++;
    else if (ch === BIDI.PDI) depth = Math.max(0, depth - 1);
    else if (depth === 0) yield [ch, at];
    at += ch.length;
  }
}

/** UBA P2: the first strong character outside isolates, R standing for R and AL; null when there is none (P3 then falls back to the default). */
function firstStrong(paragraph: string): 'L' | 'R' | null {
  for (const [ch] of outsideIsolates(paragraph)) {
    const strong = strongClass(ch);
    if (strong) return strong;
  }
  return null;
}

/** Drops a PDI with no initiator and closes an initiator left open, so a value cannot end our isolate early nor swallow what follows it. */
function balanceIsolates(text: string): string {
  let depth = 0;
  let out = '';
  for (const ch of text) {
    if (OPENS_ISOLATE.has(ch)) depth++;
    else if (ch === BIDI.PDI) {
      if (depth === 0) continue;
      depth--;
    }
    out += ch;
  }
  return out + BIDI.PDI.repeat(depth);
}

/** True when the whole text is one isolate: an initiator whose matching PDI is the last character. */
function isOneIsolate(text: string): boolean {
  if (!OPENS_ISOLATE.has(text[0] ?? '') || !text.endsWith(BIDI.PDI)) return false;
  let depth = 0;
  let at = 0;
  for (const ch of text) {
    if (OPENS_ISOLATE.has(ch)) depth++;
    else if (ch === BIDI.PDI) depth--;
    at += ch.length;
    if (depth === 0) return at === text.length;
  }
  return false;
}

function isolateLine(line: string): string {
  if (line.trim() === '') return line;
  const balanced = balanceIsolates(line);
  if (isOneIsolate(balanced)) return balanced;
  // with no right-to-left letter FSI could only resolve to LTR (X5c): LRI says so outright
  return `${RTL_SCRIPT.test(balanced) ? BIDI.FSI : BIDI.LRI}${balanced}${BIDI.PDI}`;
}

/**
 * Wraps a value in a Unicode isolate, so a Latin name, code, phone number or URL inside a right-to-left sentence
 * cannot pull the punctuation around it to its side, nor give the paragraph its direction (P2 skips isolates).
 * Each line is isolated on its own: a paragraph end closes every isolate (X8). Idempotent.
 */
export function isolate(value: string): string {
  return value.split('\n').map(isolateLine).join('\n');
}

/** True when the text has a letter of a right-to-left script (Arabic, Urdu, Hebrew…). */
export const hasRightToLeftLetters = (text: string): boolean => RTL_SCRIPT.test(text);

/** A language-aware isolate for text assembled outside i18next: left-to-right languages get the value unchanged. */
export const isolateFor = (lng: string, value: string): string => (textDirection(lng) === 'rtl' ? isolate(value) : value);

/** The text without direction marks, embeddings or isolates: for comparing what she typed with a label. */
export const stripBidiControls = (text: string): string => text.replace(BIDI_CONTROLS, '');

/** Leading bullets, emoji and spaces: they belong to the right-to-left line, not to the Latin words after them. */
const LEADING_DECORATION = /^[\s\p{Extended_Pictographic}\uFE0F\u200D\u2022\u00B7]*/u;

/** Where the Latin (or number) run at the start of a line ends: after its last raw L letter or digit before `limit`. */
function endOfLeadingLtr(text: string, limit: number): number {
  let end = 0;
  for (const [ch, at] of outsideIsolates(text)) {
    if (at >= limit) break;
    if (strongClass(ch) === 'L' || DIGIT.test(ch)) end = at + ch.length;
  }
  return end;
}

function firstRtlLetterAt(text: string): number {
  for (const [ch, at] of outsideIsolates(text)) if (strongClass(ch) === 'R') return at;
  return -1;
}

/**
 * One paragraph of a right-to-left message, made to lay out right to left.
 * RLM, a strong R character, is what P2 finds first; an RLI…PDI around the line would not do it, because P2 skips
 * isolates (the paragraph would fall back to the renderer's default, usually LTR). The Latin or number run the line
 * starts with is isolated too, so in the RTL paragraph "/code" keeps its slash and "8 marzo" its order.
 */
function rtlParagraph(line: string): string {
  if (line.trim() === '' || firstStrong(line) === 'R') return line;
  const decoration = LEADING_DECORATION.exec(line)![0];
  const rest = line.slice(decoration.length);
  const rtlAt = firstRtlLetterAt(rest);
  // a line with no right-to-left letter is foreign text: all of it keeps its own order, trailing punctuation included
  const end = rtlAt < 0 ? (endOfLeadingLtr(rest, rest.length) > 0 ? rest.length : 0) : endOfLeadingLtr(rest, rtlAt);
  return `${BIDI.RLM}${decoration}${end > 0 ? isolate(rest.slice(0, end)) : ''}${rest.slice(end)}`;
}

/** Every paragraph (line) of a right-to-left message laid out right to left, whatever its first letter. Idempotent. */
export function rtlParagraphs(text: string): string {
  return text.split('\n').map(rtlParagraph).join('\n');
}
