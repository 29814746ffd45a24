import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';

/** Everything a person sees, and every schedule, is in the programme's time zone. */
export const PROGRAMME_TZ = 'Europe/Rome';

export const inRome = (d: Date) => new TZDate(d.getTime(), PROGRAMME_TZ);

/** The calendar day in Rome, e.g. 2026-03-29, whatever the server's own zone. */
export const romeDay = (d: Date) => format(inRome(d), 'yyyy-MM-dd');

/** Parses --now style arguments: an ISO-8601 instant with a zone, or a local Rome date-time without one. */
export function parseInstant(text: string): Date | null {
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
  if (!iso.test(text)) return null;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) && text.includes('T');
  const d = hasZone ? new Date(text) : romeLocal(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

function romeLocal(text: string): Date {
  const [date, time = '00:00:00'] = text.split('T') as [string, string?];
  const [y, mo, da] = date.split('-').map(Number) as [number, number, number];
  const [h = 0, mi = 0, s = 0] = time.split(':').map(Number);
  return new Date(new TZDate(y, mo - 1, da, h, mi, Math.floor(s), PROGRAMME_TZ).getTime());
}
