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

export interface Translator {
  /** A t() fixed to one person's language; never the global changeLanguage. */
  t(lng: Language): TFunction;
  dir(lng: Language): 'ltr' | 'rtl';
  instance: i18n;
}

/** Loads every locale once at start; the core gets it as a dependency. */
export function createTranslator(dir = LOCALES_DIR): Translator {
  const files = loadLocaleFiles(dir);
  const instance = i18next.createInstance();
  void instance.init({
    initAsync: false,
    resources: Object.fromEntries(Object.entries(files).map(([lng, res]) => [lng, { translation: res }])),
    supportedLngs: [...LANGUAGES],
    fallbackLng: 'it',
    // chats are plain text: no HTML entities; a channel escapes what it must
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return {
    t: (lng) => instance.getFixedT(lng),
    dir: (lng) => (instance.dir(lng) === 'rtl' ? 'rtl' : 'ltr'),
    instance,
  };
}
