import type { TFunction } from 'i18next';
import { differenceInHours, differenceInMinutes, addMonths, differenceInCalendarMonths, differenceInDays, differenceInYears, format, parseISO, subMonths } from 'date-fns';
import type { Language } from '../i18n';
import type { ChildRow } from './context';

/** One formatter per language: building one costs far more than formatting (the daily job formats tens of thousands of dates). */
const dateFormats = new Map<Language, Intl.DateTimeFormat>();

/** A calendar date (YYYY-MM-DD) in words, in her language: "12 March 2026". */
export function formatDate(lng: Language, day: string): string {
  let format = dateFormats.get(lng);
  if (!format) {
    // English as written in Europe: day before month
    format = new Intl.DateTimeFormat(lng === 'en' ? 'en-GB' : lng, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
    dateFormats.set(lng, format);
  }
  return format.format(new Date(`${day.slice(0, 10)}T00:00:00Z`));
}

/** A child's age in the unit a mother would use: weeks, then months up to two years, then years. */
export function ageLabel(t: TFunction, birth: string, today: string): string {
  const b = parseISO(birth);
  const now = parseISO(today);
  const days = differenceInDays(now, b);
  if (days < 7) return t('children.newborn');
  const months = differenceInCalendarMonths(now, b) - (now.getDate() < b.getDate() ? 1 : 0);
  if (months < 2) return t('children.ageWeeks', { count: Math.floor(days / 7) });
  if (months < 24) return t('children.ageMonths', { count: months });
  return t('children.ageYears', { count: differenceInYears(now, b) });
}

export function childLine(t: TFunction, lng: Language, child: ChildRow, today: string): string {
  if (child.birth_date) {
    return t('children.bornLine', { name: child.name ?? t('children.unnamed'), date: formatDate(lng, child.birth_date), age: ageLabel(t, child.birth_date, today) });
  }
  return t('children.expectedLine', { date: formatDate(lng, child.due_date!) });
}

/** A short list for staff: "Amir (8 months), baby expected on …". */
export function childrenSummary(t: TFunction, lng: Language, children: ChildRow[], today: string): string {
  if (children.length === 0) return t('staff.noChildren');
  return children
    .map((c) => (c.birth_date ? `${c.name ?? t('children.unnamed')} (${ageLabel(t, c.birth_date, today)})` : t('children.expectedLine', { date: formatDate(lng, c.due_date!) })))
    .join(', ');
}

/** An example she can copy, plausible for the question: a recent birth, or a due date a few months ahead. */
export function dateExample(kind: 'birth' | 'due', today: string): string {
  const d = kind === 'birth' ? subMonths(parseISO(today), 3) : addMonths(parseISO(today), 4);
  return format(d, 'dd/MM/yyyy');
}

export const firstName = (fullName: string) => fullName.trim().split(/\s+/)[0] ?? fullName;
export const familyRef = (ref: number) => `F-${ref}`;
export const staffRef = (ref: number) => `T-${ref}`;

/** Splits a long text at line ends so every part fits the smallest channel limit (WhatsApp: 1600). */
export function chunkText(text: string, max = 1500): string[] {
  const parts: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    for (let piece = line; ; ) {
      const room = max - current.length - (current ? 1 : 0);
      if (piece.length <= room) {
        current = current ? `${current}\n${piece}` : piece;
        break;
      }
      if (current) {
        parts.push(current);
        current = '';
        continue;
      }
      parts.push(piece.slice(0, max));
      piece = piece.slice(max);
    }
  }
  if (current) parts.push(current);
  return parts;
}

/** "arabo" for an Italian reader: a language named in the reader's */
export const languageName = (reader: string, lng: string) => new Intl.DisplayNames([reader], { type: 'language' }).of(lng) ?? lng;

/** N-12: how staff name a need */
export const needRef = (ref: number) => `N-${ref}`;

/** An amount in euros as her language writes it: "€25,000", "25.000 €". */
export const euros = (lng: string, amount: number | string) => new Intl.NumberFormat(lng, { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }).format(Number(amount));

/** A time span in the unit a tutor reads at a glance: minutes, then hours up to two days, then days. */
function span(t: TFunction, from: string, now: Date, keys: { minutes: string; hours: string; days: string }): string {
  const minutes = differenceInMinutes(now, parseISO(from));
  if (minutes < 60) return t(keys.minutes, { count: Math.max(0, minutes) });
  const hours = differenceInHours(now, parseISO(from));
  if (hours < 48) return t(keys.hours, { count: hours });
  return t(keys.days, { count: Math.floor(hours / 24) });
}

/** How long ago: "31 minutes ago". */
export const ageOf = (t: TFunction, from: string, now: Date) => span(t, from, now, { minutes: 'staff.ageMinutes', hours: 'staff.ageHours', days: 'staff.ageDays' });

/** How long, for "open for …": "31 minutes". */
export const durationOf = (t: TFunction, from: string, now: Date) => span(t, from, now, { minutes: 'staff.durationMinutes', hours: 'staff.durationHours', days: 'staff.durationDays' });
