import { describe, expect, it } from 'vitest';
import { createTranslator, LANGUAGES, loadLocaleFiles, type Language } from '../bot/i18n';

const PLURAL = /_(zero|one|two|few|many|other)$/;
/** Counts that reach every form of the 13 languages: ar zero/one/two/few (3–10)/many (11–99)/other (100), uk 21 → one, ro 21 → "de". */
const COUNTS = [0, 1, 2, 3, 5, 11, 21, 100];
/** Values for the other placeholders: letters only, so a digit in the text can only be the count. */
const OTHER_VALUES = { tutor: 'T', name: 'Sara', needs: 'x', title: 'Nido', date: 'd', url: 'link' };

const files = loadLocaleFiles();
const i18n = createTranslator();

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = String(v);
  }
  return out;
}

const flat = Object.fromEntries(LANGUAGES.map((l) => [l, flatten(files[l] ?? {})])) as Record<Language, Record<string, string>>;
/** Every key with a plural form in any language. */
const pluralKeys = [...new Set(LANGUAGES.flatMap((l) => Object.keys(flat[l]).filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, ''))))].sort();
/** Direction marks and isolates, which a right-to-left text carries around interpolated values. */
const bare = (text: string) => text.replace(/[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '');
const DIGIT = /\p{Nd}/u;
/** The word right after the count in a form ("{{count}} luni" → "luni"), when the count is followed by one. */
const wordAfterCount = (form: string | undefined) => /\{\{count\}\}\s+(?:de\s+)?([\p{L}\p{M}'’]+)/u.exec(form ?? '')?.[1];

/**
 * What a form must read like, where the language has a rule we know:
 * - Arabic says one and two by the noun itself (شهر واحد، شهران): no number before it; every other form shows the count;
 * - Romanian puts "de" between a count from 20 and its noun ("21 de luni"), never below ("3 luni");
 * - Ukrainian and Arabic nouns change with the count: their forms after the count are not all the same word.
 */
function readsRight(lng: Language, key: string, category: string, count: number, text: string) {
  if (lng === 'ar' && (category === 'one' || category === 'two')) expect(text, `${lng} ${key} ${count}: the dual and singular carry the number`).not.toMatch(DIGIT);
  else expect(text, `${lng} ${key} ${count}: the count is shown`).toContain(String(count));
  if (lng === 'ro' && wordAfterCount(flat.ro[`${key}_few`])) {
    if (category === 'other') expect(text, `ro ${key} ${count}`).toContain(`${count} de `);
    else expect(text, `ro ${key} ${count}`).not.toContain(`${count} de `);
  }
}

describe('plural forms in every language', () => {
  it('finds the plural keys', () => {
    expect(pluralKeys).toEqual(expect.arrayContaining(['children.ageWeeks', 'children.ageMonths', 'children.ageYears']));
  });

  describe.each(LANGUAGES.map((l) => [l]))('%s', (lng) => {
    const rules = new Intl.PluralRules(lng);
    const t = i18n.t(lng);

    it.each(pluralKeys.map((k) => [k]))('%s: has the form each count needs, and each reads right', (key) => {
      // every form i18next's Intl.PluralRules can ask for, and none the language never uses (zh: "other" only)
      const forms = Object.keys(flat[lng]).filter((k) => k.replace(PLURAL, '') === key && PLURAL.test(k)).map((k) => PLURAL.exec(k)![1]).sort();
      expect(forms).toEqual([...rules.resolvedOptions().pluralCategories].sort());
      for (const count of COUNTS) {
        const category = rules.select(count);
        const form = flat[lng][`${key}_${category}`];
        expect(form, `${lng} ${key}_${category} for ${count}`).toBeDefined();
        const text = bare(t(key, { count, ...OTHER_VALUES }));
        // i18next picked that very form
        expect(text).toBe(form!.replace(/\{\{(\w+)\}\}/g, (_, name: string) => (name === 'count' ? String(count) : OTHER_VALUES[name as keyof typeof OTHER_VALUES])));
        readsRight(lng, key, category, count, text);
      }
    });

    if (lng === 'uk' || lng === 'ar') {
      it.each(pluralKeys.map((k) => [k]))('%s: the noun after the count changes with it', (key) => {
        const categories = lng === 'uk' ? ['one', 'few', 'many'] : ['few', 'many'];
        const words = categories.map((c) => wordAfterCount(flat[lng][`${key}_${c}`]));
        // a form that shows the count last ("Фото та файли: {{count}}") needs no agreement
        if (words.some((w) => w === undefined)) return;
        expect(new Set(words).size, `${lng} ${key}: ${words.join(' / ')}`).toBe(categories.length);
      });
    }
  });

  it('reads the reviewer\'s sentence right: "Omar Youssef is now two months"', () => {
    const ar = i18n.t('ar');
    expect(bare(ar('children.ageMonths', { count: 2 }))).toBe('شهران');
    expect(bare(ar('children.ageWeeks', { count: 2 }))).toBe('أسبوعان');
    expect(bare(ar('children.ageYears', { count: 2 }))).toBe('سنتان');
    expect(bare(ar('children.ageMonths', { count: 5 }))).toBe('5 أشهر');
    expect(bare(ar('children.ageMonths', { count: 14 }))).toBe('14 شهرًا');
  });
});
