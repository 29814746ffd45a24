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
