import type { CareItem } from '../../care/plan';
import { csvColumns, isIsoDate, type RowError } from '../../import/csv';

export const CALENDAR_COLUMNS = ['code', 'kind', 'group_key', 'dose', 'name_it', 'region', 'offset_months', 'offset_days', 'window_days', 'min_gap_days', 'mandatory', 'verified', 'source', 'checked_on', 'active'] as const;
const REQUIRED = ['code', 'kind', 'group_key', 'name_it', 'window_days', 'source', 'checked_on'] as const;

/** A calendar row as stored: what the planner reads, and where it comes from. */
export interface CalendarRow extends CareItem {
  region: string;
  source: string;
  checked_on: string;
  active: boolean;
}

const bool = (v: string, dflt: boolean): boolean | undefined => (v === '' ? dflt : ['yes', 'true', '1', 'si', 'sì'].includes(v) ? true : ['no', 'false', '0'].includes(v) ? false : undefined);
const int = (v: string, min: number, max: number): number | undefined => (/^-?\d+$/.test(v) && Number(v) >= min && Number(v) <= max ? Number(v) : undefined);

/**
 * The calendar as a coordinator edits it in a spreadsheet: one row per vaccine dose, check-up or pregnancy
 * step, found by its code (a new code adds a row, e.g. a regional variant). Every row is checked first.
 */
export function parseCalendarCsv(text: string): { rows: CalendarRow[]; errors: RowError[] } {
  const { records, header, errors } = csvColumns(text, CALENDAR_COLUMNS, REQUIRED);
  if (errors.length) return { rows: [], errors };

  const rows: CalendarRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records.slice(1)) {
    const get = (c: (typeof CALENDAR_COLUMNS)[number]) => { const i = header.indexOf(c); return i < 0 ? '' : (fields[i] ?? '').trim(); };
    const problems: string[] = [];
    const code = get('code').toLowerCase();
    if (!/^[a-z0-9-]{2,40}$/.test(code)) problems.push(`code "${get('code')}" must be 2–40 lowercase letters, digits or dashes`);
    else if (seen.has(code)) problems.push(`code ${code} is already on line ${seen.get(code)}`);
    const kind = get('kind');
    if (!['vaccine', 'checkup', 'pregnancy'].includes(kind)) problems.push(`kind "${kind}" must be vaccine, checkup or pregnancy`);
    const group = get('group_key').toLowerCase();
    if (!/^[a-z0-9_]{2,30}$/.test(group)) problems.push(`group_key "${get('group_key')}" must be 2–30 lowercase letters, digits or _`);
    const dose = get('dose') === '' ? 1 : int(get('dose'), 1, 9);
    if (dose === undefined) problems.push(`dose "${get('dose')}" must be 1–9`);
    const name = get('name_it');
    if (!name) problems.push('name_it is required');
    const months = get('offset_months') === '' ? 0 : int(get('offset_months'), -12, 240);
    if (months === undefined) problems.push(`offset_months "${get('offset_months')}" must be a whole number of months`);
    const days = get('offset_days') === '' ? 0 : int(get('offset_days'), -300, 3000);
    if (days === undefined) problems.push(`offset_days "${get('offset_days')}" must be a whole number of days`);
    const window = int(get('window_days'), 0, 730);
    if (window === undefined) problems.push(`window_days "${get('window_days')}" must be 0–730`);
    const gap = get('min_gap_days') === '' ? null : int(get('min_gap_days'), 1, 3000);
    if (gap === undefined) problems.push(`min_gap_days "${get('min_gap_days')}" must be empty or a positive number of days`);
    const mandatory = bool(get('mandatory').toLowerCase(), false);
    const verified = bool(get('verified').toLowerCase(), true);
    const active = bool(get('active').toLowerCase(), true);
    if (mandatory === undefined || verified === undefined || active === undefined) problems.push('mandatory, verified and active must be yes, no or empty');
    const source = get('source');
    if (!source) problems.push('source is required: where this row comes from');
    const checked = get('checked_on');
    if (!isIsoDate(checked)) problems.push(`checked_on "${checked}" must be a date YYYY-MM-DD`);
    if (problems.length) { errors.push({ line, reason: problems.join('; ') }); continue; }
    seen.set(code, line);
    rows.push({ code, kind: kind as CalendarRow['kind'], group_key: group, dose: dose!, name_it: name, region: get('region') || 'lombardia', offset_months: months!, offset_days: days!, window_days: window!, min_gap_days: gap!, mandatory: mandatory!, verified: verified!, source, checked_on: checked, active: active! });
  }
  return { rows, errors };
}
