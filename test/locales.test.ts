import { describe, expect, it } from 'vitest';
import { createTranslator, LANGUAGES, loadLocaleFiles } from '../bot/i18n';

const PLURAL = /_(zero|one|two|few|many|other)$/;
const files = loadLocaleFiles();

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = String(v);
  }
  return out;
}

const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)\s*(?:,[^}]*)?\}\}/g)].map((m) => m[1]).sort();

/** Keys without plural suffixes, and for each plural key the forms present. */
function shape(lng: string) {
  const flat = flatten(files[lng] ?? {});
  const plain = new Set<string>();
  const plurals = new Map<string, Set<string>>();
  for (const key of Object.keys(flat)) {
    const m = PLURAL.exec(key);
    if (m) {
      const base = key.slice(0, -m[0].length);
      plurals.set(base, (plurals.get(base) ?? new Set()).add(m[1]!));
    } else plain.add(key);
  }
  return { flat, plain, plurals };
}

const reference = shape('en');

describe('locales', () => {
  it('has exactly the 13 interface languages', () => {
    expect(Object.keys(files).sort()).toEqual([...LANGUAGES].sort());
  });

  describe.each(LANGUAGES.map((l) => [l]))('%s', (lng) => {
    const { flat, plain, plurals } = shape(lng);
    const needed = new Intl.PluralRules(lng).resolvedOptions().pluralCategories.slice().sort();

    it('has every key of the English source and no other', () => {
      expect([...plain].sort()).toEqual([...reference.plain].sort());
      expect([...plurals.keys()].sort()).toEqual([...reference.plurals.keys()].sort());
    });

    it('has exactly the plural forms the language needs', () => {
      for (const [base, forms] of plurals) expect([base, [...forms].sort()]).toEqual([base, needed]);
    });

    it('uses the same placeholders as English in every string, and leaves none empty', () => {
      const en = reference.flat;
      for (const [key, value] of Object.entries(flat)) {
        expect(value.trim(), `${lng}:${key} is empty`).not.toBe('');
        const source = en[key] ?? en[key.replace(PLURAL, '_other')]!;
        // Arabic singular and dual say the number in the word ("شهران"): no digit there (test/locales-plurals.test.ts)
        const expected = placeholders(source).filter((p) => !(p === 'count' && lng === 'ar' && /_(one|two)$/.test(key)));
        expect([key, placeholders(value)]).toEqual([key, expected]);
      }
    });
  });

  it('writes Arabic and Urdu right to left, the others left to right', () => {
    const i18n = createTranslator();
    expect(LANGUAGES.filter((l) => i18n.dir(l) === 'rtl').sort()).toEqual(['ar', 'ur']);
  });

  it('picks the right plural form per language', () => {
    const i18n = createTranslator();
    if (!files.ar || !files.uk) return expect.fail('ar and uk locales are required');
    expect(i18n.t('en')('common.unreadMessages', { count: 1 })).toBe(flatten(files.en!)['common.unreadMessages_one']!.replace('{{count}}', '1'));
    expect(i18n.t('ar')('common.unreadMessages', { count: 2 })).toBe(flatten(files.ar)['common.unreadMessages_two']!.replace('{{count}}', '2'));
    expect(i18n.t('uk')('common.unreadMessages', { count: 5 })).toBe(flatten(files.uk)['common.unreadMessages_many']!.replace('{{count}}', '5'));
  });
});
