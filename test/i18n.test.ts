import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import i18next from 'i18next';
import { afterAll, describe, expect, it } from 'vitest';
import { FSI, LRI, paragraphDirection, paragraphs, PDI, RLI, RLM } from './channels/uba';
import { createTranslator, isolate, isolateFor, LANGUAGES, loadLocaleFiles, rtlParagraphs, stripBidiControls, textDirection, type Language } from '../bot/i18n';

const files = loadLocaleFiles();
const i18n = createTranslator();
const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = String(v);
  }
  return out;
}
const raw = (lng: Language, key: string) => flatten(files[lng]!)[key]!;
const placeholders = (s: string) => [...new Set([...s.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1]!))];
const fill = (template: string, values: Record<string, string>) => template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => values[name]!);

/** Every key of a language as t() is called with it: plural keys once, by their base. */
function keysOf(lng: Language): { key: string; template: string }[] {
  const flat = flatten(files[lng]!);
  const form = new Intl.PluralRules(lng).select(3);
  const out = new Map<string, string>();
  for (const [key, template] of Object.entries(flat)) {
    const m = PLURAL.exec(key);
    if (!m) out.set(key, template);
    else if (m[1] === form) out.set(key.slice(0, -m[0].length), template);
  }
  return [...out].map(([key, template]) => ({ key, template }));
}

/** Latin values for every placeholder of a string, count a number as plural needs. */
const latinValues = (template: string): Record<string, string | number> =>
  Object.fromEntries(placeholders(template).map((name) => [name, name === 'count' ? 3 : `Giulia ${name}`]));

describe('the translator in Arabic and Urdu', () => {
  it.each([
    ['ar', 'staff.tutorAssigned', { tutor: 'Giulia' }],
    ['ur', 'staff.tutorAssigned', { tutor: 'Giulia' }],
    ['ar', 'needs.taken', { tutor: 'Giulia' }],
    ['ur', 'needs.resolved', { tutor: 'Giulia' }],
    ['ar', 'privacy.summaryDistrict', { district: 'San Siro' }],
    ['ur', 'privacy.summaryDistrict', { district: 'Municipio 8' }],
    ['ar', 'staff.needFamily', { family: 'F-12', name: 'Amina', district: 'Municipio 8' }],
    ['ur', 'staff.needHead', { need: 'N-7', category: 'Documenti' }],
    ['ar', 'staff.relinkCode', { family: 'F-12', code: 'K7QW2M9X', date: '3/12/2026' }],
    ['ar', 'needs.servicePhone', { phone: '+39 02 1234 5678' }],
    ['ur', 'safety.selfLine', { name: 'Telefono Amico', phone: '02 2327 2327', hours: '10-24' }],
  ] as const)('%s %s: every Latin value sits in LRI…PDI and the sentence stays right to left', (lng, key, values) => {
    const text = i18n.t(lng)(key, values);
    const isolated = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, `${LRI}${v}${PDI}`]));
    expect(text).toBe(fill(raw(lng, key), isolated));
    for (const p of paragraphs(text)) expect([p, paragraphDirection(p)]).toEqual([p, 'R']);
  });

  it('is needed: without isolates "Giulia …" would make the Arabic paragraph left to right', () => {
    expect(paragraphDirection(fill(raw('ar', 'staff.tutorAssigned'), { tutor: 'Giulia' }))).toBe('L');
  });

  it('isolates a value in Arabic script with FSI, so it keeps its own right-to-left direction', () => {
    expect(i18n.t('ar')('staff.needFamily', { family: 'F-12', name: 'أمينة', district: 'San Siro' })).toBe(
      fill(raw('ar', 'staff.needFamily'), { family: `${LRI}F-12${PDI}`, name: `${FSI}أمينة${PDI}`, district: `${LRI}San Siro${PDI}` }),
    );
  });

  it.each([
    ['ar', 0, 'zero'], ['ar', 1, 'one'], ['ar', 2, 'two'], ['ar', 3, 'few'], ['ar', 11, 'many'], ['ar', 100, 'other'],
    ['ur', 1, 'one'], ['ur', 5, 'other'],
  ] as const)('%s picks the plural form from the number %i (%s) and shows the number isolated', (lng, count, form) => {
    expect(i18n.t(lng)('common.unreadMessages', { count })).toBe(raw(lng, `common.unreadMessages_${form}`).replace('{{count}}', `${LRI}${count}${PDI}`));
  });

  describe.each(['ar', 'ur'] as const)('every %s string', (lng) => {
    const t = i18n.t(lng);
    const all = keysOf(lng);

    it('shows every Latin value between LRI and PDI, and changes nothing else', () => {
      for (const { key, template } of all) {
        const values = latinValues(template);
        const isolated = Object.fromEntries(Object.entries(values).map(([name, v]) => [name, `${LRI}${v}${PDI}`]));
        expect([key, t(key, values)]).toEqual([key, fill(template, isolated)]);
      }
    });

    it('never lets a value decide a paragraph’s direction', () => {
      for (const { key, template } of all) {
        const text = t(key, latinValues(template));
        const own = template.split('\n').map((p) => paragraphDirection(p.replace(/\{\{[^}]*\}\}/g, '')));
        expect([key, text.split('\n').map(paragraphDirection)]).toEqual([key, own]);
      }
    });

    it('lays out every paragraph right to left once a channel has started it (rtlParagraphs)', () => {
      for (const { key, template } of all) {
        for (const p of paragraphs(rtlParagraphs(t(key, latinValues(template))))) expect([key, p, paragraphDirection(p)]).toEqual([key, p, 'R']);
      }
    });
  });
});

describe('the translator in left-to-right languages', () => {
  // the translator as it was before isolates: plain i18next, values as given
  const plain = i18next.createInstance();
  void plain.init({
    initAsync: false,
    resources: Object.fromEntries(Object.entries(files).map(([lng, res]) => [lng, { translation: res }])),
    supportedLngs: [...LANGUAGES],
    fallbackLng: 'it',
    interpolation: { escapeValue: false },
    returnNull: false,
  });

  it.each(LANGUAGES.filter((l) => textDirection(l) === 'ltr').map((l) => [l]))('%s: every string is byte for byte what plain i18next gives', (lng) => {
    for (const { key, template } of keysOf(lng)) {
      const values = latinValues(template);
      const text = i18n.t(lng)(key, values);
      expect([key, text]).toEqual([key, plain.getFixedT(lng)(key, values)]);
      expect([key, /[\u2066-\u2069\u200E\u200F]/u.test(text)]).toEqual([key, false]);
    }
  });

  it('knows Arabic and Urdu as the right-to-left ones, as i18next does', () => {
    expect(LANGUAGES.filter((l) => i18n.dir(l) === 'rtl')).toEqual(LANGUAGES.filter((l) => plain.dir(l) === 'rtl'));
    expect(LANGUAGES.filter((l) => i18n.dir(l) === 'rtl').sort()).toEqual(['ar', 'ur']);
  });
});

describe('nested $t() in right-to-left strings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'locales-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'it.json'), JSON.stringify({ who: '{{name}} è la tua tutor', greet: '$t(who).' }));
  writeFileSync(join(dir, 'ar.json'), JSON.stringify({
    who: '{{name}} مرشدتكِ',
    greet: '$t(who) وصلت.',
    withName: '$t(who, {"name": "{{tutor}}"}) اليوم',
    kids_zero: 'لا أطفال', kids_one: 'طفل واحد', kids_two: 'طفلان', kids_few: '{{count}} أطفال', kids_many: '{{count}} طفلًا', kids_other: '{{count}} طفل',
    family: 'العائلة {{family}}: $t(kids, {"count": {{n}} })',
    inherit: 'لديكِ $t(kids)',
  }));
  const nested = createTranslator(dir);
  const ar = nested.t('ar');

  it.each([
    ['a nested key isolates its own values', 'greet', { name: 'Giulia' }, `${LRI}Giulia${PDI} مرشدتكِ وصلت.`],
    ['a value passed on in the nesting options is isolated once, not twice', 'withName', { tutor: 'Giulia' }, `${LRI}Giulia${PDI} مرشدتكِ اليوم`],
    ['a count passed on in the nesting options still picks the plural (few)', 'family', { family: 'F-12', n: 3 }, `العائلة ${LRI}F-12${PDI}: ${LRI}3${PDI} أطفال`],
    ['a count passed on in the nesting options still picks the plural (two)', 'family', { family: 'F-12', n: 2 }, `العائلة ${LRI}F-12${PDI}: طفلان`],
    ['a nested key inherits the numeric count', 'inherit', { count: 11 }, `لديكِ ${LRI}11${PDI} طفلًا`],
  ])('%s', (_, key, values, expected) => {
    expect(ar(key, values)).toBe(expected);
  });

  it('leaves nesting in left-to-right languages as it was', () => {
    expect(nested.t('it')('greet', { name: 'Giulia' })).toBe('Giulia è la tua tutor.');
  });
});

describe('isolate', () => {
  it.each([
    ['a Latin name', 'Giulia', `${LRI}Giulia${PDI}`],
    ['a code', 'F-12', `${LRI}F-12${PDI}`],
    ['a phone number', '+39 02 1234 5678', `${LRI}+39 02 1234 5678${PDI}`],
    ['a URL', 'https://wa.me/390200000001?text=K7QW2M9X', `${LRI}https://wa.me/390200000001?text=K7QW2M9X${PDI}`],
    ['Arabic words', 'مكان آخر', `${FSI}مكان آخر${PDI}`],
    ['Latin then Arabic: its first strong letter decides', 'San Siro (مركز)', `${FSI}San Siro (مركز)${PDI}`],
    ['each line on its own (a paragraph end closes every isolate)', 'Giulia\nمرحبا', `${LRI}Giulia${PDI}\n${FSI}مرحبا${PDI}`],
    ['an empty value stays empty', '', ''],
    ['an isolated value stays as it is', `${LRI}Giulia${PDI}`, `${LRI}Giulia${PDI}`],
    ['a stray PDI in her text cannot close the isolate early', `abc${PDI} def`, `${LRI}abc def${PDI}`],
    ['an initiator left open in her text is closed inside', `abc${RLI}def`, `${LRI}abc${RLI}def${PDI}${PDI}`],
  ])('%s', (_, value, expected) => {
    expect(isolate(value)).toBe(expected);
  });

  it('is a no-op for left-to-right readers through isolateFor', () => {
    expect(isolateFor('it', 'Giulia')).toBe('Giulia');
    expect(isolateFor('ur', 'Giulia')).toBe(`${LRI}Giulia${PDI}`);
  });

  it('can be taken off again to compare what she typed', () => {
    expect(stripBidiControls(`${RLM}1. ${LRI}San Siro${PDI}`)).toBe('1. San Siro');
  });
});

describe('rtlParagraphs', () => {
  it.each([
    ['an Arabic line stays as it is', 'أجيبي برقم اختياركِ.', 'أجيبي برقم اختياركِ.'],
    ['a line opening with an isolated name stays as it is', `${LRI}Giulia${PDI} أصبحت مرشدتكِ.`, `${LRI}Giulia${PDI} أصبحت مرشدتكِ.`],
    ['a command opening an Arabic line: RLM, and the command isolated so its slash stays', '/code – رمز لعائلة جديدة', `${RLM}${LRI}/code${PDI} – رمز لعائلة جديدة`],
    ['a Latin word opening an Arabic line', 'ISEE أقل من 25.000 €', `${RLM}${LRI}ISEE${PDI} أقل من 25.000 €`],
    ['a Latin-only line keeps its order, right-aligned', 'Sezione primavera', `${RLM}${LRI}Sezione primavera${PDI}`],
    ['a date in Latin keeps "8 marzo" in order', '8 marzo', `${RLM}${LRI}8 marzo${PDI}`],
    ['a leading emoji stays on the right-to-left side', '📍 San Siro Center', `${RLM}📍 ${LRI}San Siro Center${PDI}`],
    ['a line of isolated values only needs the mark', `• ${LRI}Giulia${PDI}`, `${RLM}• ${LRI}Giulia${PDI}`],
    ['blank lines stay blank', '', ''],
  ])('%s', (_, line, expected) => {
    expect(rtlParagraphs(line)).toBe(expected);
    expect(rtlParagraphs(expected)).toBe(expected);
  });

  it('works line by line: each line is a paragraph (UBA P1)', () => {
    expect(rtlParagraphs('مرحبا\nSan Siro\n\n112')).toBe(`مرحبا\n${RLM}${LRI}San Siro${PDI}\n\n${RLM}${LRI}112${PDI}`);
  });
});
