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

/** One calendar row as cells: the CSV's columns, or the desk's form fields. */
export type CalendarText = Partial<Record<CalendarColumn, string>>;
export type CalendarColumn = (typeof CALENDAR_COLUMNS)[number];

/** One field's problem: a key and values for the desk's words, and the import's own (`reason`). */
export interface CalendarProblem {
  field: CalendarColumn;
  key: 'code' | 'kind' | 'group' | 'dose' | 'name' | 'months' | 'days' | 'window' | 'gap' | 'flag' | 'source' | 'checked';
  values?: Record<string, string>;
  reason: string;
}

/**
 * One calendar row checked by the import's rules: the row care_items_upsert takes, or every problem found, each with
 * its field. The CSV import and the desk's form both check rows here.
 */
export function checkCalendarItem(text: CalendarText): { row?: CalendarRow; problems: CalendarProblem[] } {
  const get = (c: CalendarColumn) => (text[c] ?? '').trim();
  const problems: CalendarProblem[] = [];
  const add = (field: CalendarColumn, key: CalendarProblem['key'], reason: string, values?: Record<string, string>) => problems.push({ field, key, reason, ...(values ? { values } : {}) });
  const code = get('code').toLowerCase();
  if (!/^[a-z0-9-]{2,40}$/.test(code)) add('code', 'code', `code "${get('code')}" must be 2–40 lowercase letters, digits or dashes`, { value: get('code') });
  const kind = get('kind');
  if (!['vaccine', 'checkup', 'pregnancy'].includes(kind)) add('kind', 'kind', `kind "${kind}" must be vaccine, checkup or pregnancy`, { value: kind });
  const group = get('group_key').toLowerCase();
  if (!/^[a-z0-9_]{2,30}$/.test(group)) add('group_key', 'group', `group_key "${get('group_key')}" must be 2–30 lowercase letters, digits or _`, { value: get('group_key') });
  const dose = get('dose') === '' ? 1 : int(get('dose'), 1, 9);
  if (dose === undefined) add('dose', 'dose', `dose "${get('dose')}" must be 1–9`, { value: get('dose') });
  const name = get('name_it');
  if (!name) add('name_it', 'name', 'name_it is required');
  const months = get('offset_months') === '' ? 0 : int(get('offset_months'), -12, 240);
  if (months === undefined) add('offset_months', 'months', `offset_months "${get('offset_months')}" must be a whole number of months`, { value: get('offset_months') });
  const days = get('offset_days') === '' ? 0 : int(get('offset_days'), -300, 3000);
  if (days === undefined) add('offset_days', 'days', `offset_days "${get('offset_days')}" must be a whole number of days`, { value: get('offset_days') });
  const window = int(get('window_days'), 0, 730);
  if (window === undefined) add('window_days', 'window', `window_days "${get('window_days')}" must be 0–730`, { value: get('window_days') });
  const gap = get('min_gap_days') === '' ? null : int(get('min_gap_days'), 1, 3000);
  if (gap === undefined) add('min_gap_days', 'gap', `min_gap_days "${get('min_gap_days')}" must be empty or a positive number of days`, { value: get('min_gap_days') });
  const mandatory = bool(get('mandatory').toLowerCase(), false);
  const verified = bool(get('verified').toLowerCase(), true);
  const active = bool(get('active').toLowerCase(), true);
  if (mandatory === undefined || verified === undefined || active === undefined) {
    add(mandatory === undefined ? 'mandatory' : verified === undefined ? 'verified' : 'active', 'flag', 'mandatory, verified and active must be yes, no or empty');
  }
  const source = get('source');
  if (!source) add('source', 'source', 'source is required: where this row comes from');
  const checked = get('checked_on');
  if (!isIsoDate(checked)) add('checked_on', 'checked', `checked_on "${checked}" must be a date YYYY-MM-DD`, { value: checked });
  if (problems.length) return { problems };
  return {
    problems,
    row: { code, kind: kind as CalendarRow['kind'], group_key: group, dose: dose!, name_it: name, region: get('region') || 'lombardia', offset_months: months!, offset_days: days!, window_days: window!, min_gap_days: gap!, mandatory: mandatory!, verified: verified!, source, checked_on: checked, active: active! },
  };
}

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
    const cells: CalendarText = {};
    for (const c of CALENDAR_COLUMNS) { const i = header.indexOf(c); cells[c] = i < 0 ? '' : (fields[i] ?? ''); }
    const { row, problems } = checkCalendarItem(cells);
    const reasons = problems.map((p) => p.reason);
    const code = (cells.code ?? '').trim().toLowerCase();
    // the same code twice in one file: said where the code's own problem would be
    if (!problems.some((p) => p.field === 'code') && seen.has(code)) reasons.unshift(`code ${code} is already on line ${seen.get(code)}`);
    if (reasons.length || !row) { errors.push({ line, reason: reasons.join('; ') }); continue; }
    seen.set(code, line);
    rows.push(row);
  }
  return { rows, errors };
}
