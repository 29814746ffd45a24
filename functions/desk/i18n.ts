import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import i18next, { type TFunction } from 'i18next';

/** The desk is for the programme's staff: Italian, and English for those who read it better. */
export const DESK_LANGUAGES = ['it', 'en'] as const;
export type DeskLanguage = (typeof DESK_LANGUAGES)[number];
export const isDeskLanguage = (x: unknown): x is DeskLanguage => typeof x === 'string' && (DESK_LANGUAGES as readonly string[]).includes(x);

const DESK_LOCALES = fileURLToPath(new URL('../../locales/desk/', import.meta.url));

/** A coordinator's language when the desk has it, else Italian. */
export const deskLanguageOf = (lng: string | null | undefined): DeskLanguage => (isDeskLanguage(lng) ? lng : 'it');

/** One i18next instance for the desk's pages; values are HTML-escaped because every string lands in HTML. */
export function createDeskTranslator(dir = DESK_LOCALES): (lng: DeskLanguage) => TFunction {
  const resources = Object.fromEntries(DESK_LANGUAGES.map((l) => [l, { translation: JSON.parse(readFileSync(`${dir}${l}.json`, 'utf8')) as Record<string, unknown> }]));
  const instance = i18next.createInstance();
  void instance.init({ initAsync: false, resources, supportedLngs: [...DESK_LANGUAGES], fallbackLng: 'it', returnNull: false, interpolation: { escapeValue: true } });
  return (lng) => instance.getFixedT(lng);
}
