import { addMonths, differenceInCalendarDays, isValid, parseISO, subYears } from 'date-fns';
import { LANGUAGES } from '../i18n';

/** What people really type for a date, turned into YYYY-MM-DD, or the reason it cannot be one. */
export type DateAnswer = { ok: true; date: string } | { ok: false; reason: 'not_a_date' | 'impossible' | 'future' | 'too_old' | 'past' | 'too_far' };

export interface DateRules {
  /** today in Europe/Rome, YYYY-MM-DD (from the injected clock) */
  today: string;
  /** birth: not in the future, not older than 6 years; due: from today to 10 months ahead */
  kind: 'birth' | 'due';
}

/** Every script's digits → 0-9 (Arabic-Indic, Eastern Arabic/Urdu, Bengali, Sinhala archaic, full-width). */
function asciiDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06F0-\u06F9\u09E6-\u09EF\u0DE6-\u0DEF\uFF10-\uFF19]/g, (d) => {
    const c = d.charCodeAt(0);
    for (const zero of [0x0660, 0x06f0, 0x09e6, 0x0de6, 0xff10]) if (c >= zero && c <= zero + 9) return String(c - zero);
    return d;
  });
}

const fold = (s: string) => s.toLocaleLowerCase().normalize('NFKD').replace(/[\u0300-\u036f.]/g, '').trim();

/** Month names as Intl writes them in each language (standalone and in a date, long and short), plus English and Italian. */
const MONTHS: Map<string, number> = (() => {
  const names = new Map<string, number>();
  const add = (name: string, month: number) => {
    const key = fold(name);
    if (key && !/^\d+$/.test(key) && !names.has(key)) names.set(key, month);
  };
  for (const lng of LANGUAGES) {
    for (let m = 0; m < 12; m++) {
      const d = new Date(Date.UTC(2026, m, 12, 12));
      for (const month of ['long', 'short'] as const) {
        add(new Intl.DateTimeFormat(lng, { month, timeZone: 'UTC' }).format(d), m + 1);
        const part = new Intl.DateTimeFormat(lng, { day: 'numeric', month, timeZone: 'UTC' }).formatToParts(d).find((p) => p.type === 'month');
        if (part) add(part.value, m + 1);
      }
    }
  }
  return names;
})();

function twoDigitYear(y: number, today: Date): number {
  if (y >= 100) return y;
  const century = Math.floor(today.getUTCFullYear() / 100) * 100;
  return century + y > today.getUTCFullYear() + 1 ? century - 100 + y : century + y;
}

/** Finds day, month and year in the text, day first (as in Italy) unless the year leads. */
function pieces(raw: string, today: Date): { d: number; m: number; y: number } | null {
  const text = asciiDigits(raw).trim();
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(text))) return { y: +m[1]!, m: +m[2]!, d: +m[3]! };
  if ((m = /^(\d{1,2})\s*[-/.\s]\s*(\d{1,2})\s*[-/.\s]\s*(\d{2}|\d{4})$/.exec(text))) return { d: +m[1]!, m: +m[2]!, y: twoDigitYear(+m[3]!, today) };
  // a month written as a word, in any order with the day: "12 marzo 2026", "March 12, 2026", "12 de marzo de 2026"
  const words = fold(text).replace(/[,،]/g, ' ').split(/\s+/).filter((w) => w && !['de', 'del', 'di', 'ng', 'sa'].includes(w));
  const numbers = words.filter((w) => /^\d+$/.test(w)).map(Number);
  const monthWord = words.find((w) => MONTHS.has(w));
  if (monthWord && numbers.length === 2) {
    const year = numbers.find((n) => n > 31) ?? numbers[1]!;
    const day = numbers.find((n) => n !== year) ?? numbers[0]!;
    return { d: day, m: MONTHS.get(monthWord)!, y: twoDigitYear(year, today) };
  }
  return null;
}

export function parseDateAnswer(text: string, rules: DateRules): DateAnswer {
  const today = parseISO(`${rules.today}T00:00:00Z`);
  const p = pieces(text, today);
  if (!p) return { ok: false, reason: 'not_a_date' };
  const iso = `${String(p.y).padStart(4, '0')}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
  const date = parseISO(`${iso}T00:00:00Z`);
  // parseISO rolls 31/02 over into March: a real date reads back the same
  if (!isValid(date) || date.toISOString().slice(0, 10) !== iso) return { ok: false, reason: 'impossible' };
  const ahead = differenceInCalendarDays(date, today);
  if (rules.kind === 'birth') {
    if (ahead > 0) return { ok: false, reason: 'future' };
    if (date < subYears(today, 6)) return { ok: false, reason: 'too_old' };
  } else {
    if (ahead < 0) return { ok: false, reason: 'past' };
    if (date > addMonths(today, 10)) return { ok: false, reason: 'too_far' };
  }
  return { ok: true, date: iso };
}
