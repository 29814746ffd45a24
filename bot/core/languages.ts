import { isLanguage, LANGUAGES, type Language } from '../i18n';

/** Telegram's language_code (IETF tag) → an interface language, when we have it. */
export function languageFromTelegram(code: string | undefined): Language | undefined {
  if (!code) return undefined;
  const base = code.toLowerCase().split(/[-_]/)[0]!;
  if (base === 'fil') return 'tl';
  return isLanguage(base) ? base : undefined;
}

/** Country calling codes of the communities the programme serves → their most likely language. */
const BY_CALLING_CODE: [string, Language][] = [
  ['880', 'bn'], ['380', 'uk'], ['355', 'sq'], ['593', 'es'], ['212', 'ar'], ['213', 'ar'], ['216', 'ar'], ['218', 'ar'],
  ['221', 'fr'], ['223', 'fr'], ['225', 'fr'], ['226', 'fr'], ['237', 'fr'], ['234', 'en'], ['233', 'en'], ['962', 'ar'],
  ['963', 'ar'], ['964', 'ar'], ['966', 'ar'], ['971', 'ar'], ['249', 'ar'], ['373', 'ro'], ['591', 'es'], ['595', 'es'],
  ['503', 'es'], ['502', 'es'], ['504', 'es'], ['505', 'es'], ['39', 'it'], ['20', 'ar'], ['63', 'tl'], ['86', 'zh'],
  ['51', 'es'], ['94', 'si'], ['40', 'ro'], ['92', 'ur'], ['57', 'es'], ['54', 'es'], ['56', 'es'], ['58', 'es'],
  ['52', 'es'], ['53', 'es'], ['34', 'es'], ['33', 'fr'], ['32', 'fr'], ['44', 'en'], ['1', 'en'],
];

/** The WhatsApp number's country code → a language; Italian when unknown (most mothers use an Italian SIM). */
export function languageFromPhone(e164: string): Language {
  const digits = e164.replace(/^\+/, '');
  for (const [prefix, lng] of BY_CALLING_CODE) if (digits.startsWith(prefix)) return lng;
  return 'it';
}

/** All 13, the suggested one first. */
export const languagesWithFirst = (first: Language): Language[] => [first, ...LANGUAGES.filter((l) => l !== first)];

/**
 * What she may type to pick a language besides the menu's label: its name in its own script (also the
 * everyday form, "عربي"), in Italian and in English; romanized names too. Folded as `foldChoice` folds.
 */
const LANGUAGE_NAMES: Record<Language, string[]> = {
  it: ['italiano', 'italiana', 'italian', 'ita'],
  ar: ['العربية', 'عربي', 'عربية', 'العربي', 'arabo', 'araba', 'arabic', 'arabi', 'arab'],
  tl: ['tagalog', 'filipino', 'pilipino', 'taglish', 'filippino'],
  zh: ['中文', '汉语', '漢語', '普通话', '国语', '华语', 'cinese', 'chinese', 'zhongwen', 'mandarin'],
  es: ['español', 'espanol', 'castellano', 'spagnolo', 'spanish'],
  si: ['සිංහල', 'singalese', 'cingalese', 'sinhala', 'sinhalese', 'singhala'],
  ro: ['română', 'romana', 'romeno', 'romanian', 'moldovenească', 'moldoveneasca'],
  uk: ['українська', 'украинский', 'ucraino', 'ukrainian', 'ukrainska'],
  sq: ['shqip', 'shqipe', 'albanese', 'albanian'],
  bn: ['বাংলা', 'bangla', 'bengalese', 'bengali', 'bangali'],
  en: ['english', 'inglese', 'eng'],
  fr: ['français', 'francais', 'francese', 'french'],
  ur: ['اردو', 'urdu'],
};

/** Case, marks (accents, harakat), tatweel, punctuation and emoji folded; digits of any script as 0–9. */
export function foldChoice(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{Nd}/gu, (d) => String(digitValue(d)))
    .replace(/[\p{M}\u0640]/gu, '')
    .toLocaleLowerCase()
    .replace(/[\p{P}\p{S}\u200c\u200d\u200e\u200f\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The value of a decimal digit in any script (Arabic-Indic ٣, Bengali ৩, fullwidth ３…). */
function digitValue(d: string): number {
  // Unicode keeps each script's digits 0–9 in contiguous runs of ten
  let start = d.codePointAt(0)!;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return (d.codePointAt(0)! - start) % 10;
}

/** The language she named, in any of the ways above or by the menu's labels. */
export function languageNamed(text: string, labels: (l: Language) => string): Language | undefined {
  const said = foldChoice(text);
  if (!said) return undefined;
  return LANGUAGES.find((l) => l === said || foldChoice(labels(l)) === said || LANGUAGE_NAMES[l].some((n) => foldChoice(n) === said));
}

/**
 * The language her script shows, where one script means one of our languages (Urdu by its own letters);
 * Latin and Cyrillic say too little (Cyrillic: Ukrainian is the only one we speak).
 */
export function languageOfScript(text: string): Language | undefined {
  const letters = text.replace(/[^\p{L}]/gu, '');
  if (!letters) return undefined;
  const share = (re: RegExp) => (letters.match(re)?.length ?? 0) / letters.length;
  if (share(/\p{Script=Arabic}/gu) > 0.5) return /[ٹڈڑںےۓھکگی]/u.test(letters) && !/[ةى]/u.test(letters) ? 'ur' : 'ar';
  if (share(/\p{Script=Bengali}/gu) > 0.5) return 'bn';
  if (share(/\p{Script=Sinhala}/gu) > 0.5) return 'si';
  if (share(/\p{Script=Han}/gu) > 0.5) return 'zh';
  if (share(/\p{Script=Cyrillic}/gu) > 0.5) return 'uk';
  return undefined;
}
