import { APPLY_HOW, CALL_KINDS, DOCUMENTS, type CallKind } from '../../core/calls';
import { csvColumns, isIsoDate, type RowError } from '../../import/csv';

export const CALL_COLUMNS = ['code', 'kind', 'title_it', 'opens_on', 'closes_on', 'districts', 'child_min_months', 'child_max_months', 'age_on', 'isee_max', 'residence', 'permit', 'documents', 'apply_how', 'apply_url', 'source', 'checked_on', 'unverified'] as const;
export type CallColumn = (typeof CALL_COLUMNS)[number];
const REQUIRED = ['code', 'kind', 'title_it', 'source', 'checked_on'] as const;
export const RESIDENCES = ['milan', 'lombardy'] as const;
export const PERMITS = ['sap'] as const;

/** A call as calls_upsert() stores it. */
export interface CallImportRow {
  code: string;
  kind: CallKind;
  title_it: string;
  opens_on: string | null;
  closes_on: string | null;
  districts: string[];
  child_min_months: number | null;
  child_max_months: number | null;
  age_on: string | null;
  isee_max: number | null;
  residence: 'milan' | 'lombardy' | null;
  permit: 'sap' | null;
  documents: string[];
  apply_how: string[];
  apply_url: string | null;
  source: string;
  checked_on: string;
  unverified: boolean;
}

/** A call as written by a coordinator: each column's text, as a CSV cell or a desk form field holds it. */
export type CallText = Partial<Record<CallColumn, string>>;

/**
 * One thing wrong with one column: `reason` in the CSV import's words, and `key` with `values` for the same
 * message in the desk's languages (locales/desk: calls.problem.<key>).
 */
export interface CallProblem {
  field: CallColumn;
  key: string;
  values: Record<string, string | number>;
  reason: string;
}

/** A refused CSV line: the import's reason, and the problems it is made of (none for the header's). */
export interface CallRowError extends RowError {
  problems: CallProblem[];
}

/** A list cell: values separated by | or spaces (a comma or semicolon would clash with the CSV delimiter). */
const list = (v: string) => v.split(/[|\s]+/).map((x) => x.trim().toLowerCase()).filter(Boolean);

/** A real code: what travels in buttons and staff commands. */
export const isCallCode = (code: string) => /^[a-z0-9-]{3,32}$/.test(code);

/**
 * One call checked, by the rules of the CSV import and of the desk's form alike: the row to store, or every
 * problem with the column it is about.
 */
export function checkCall(text: CallText, districtCodes: string[]): { row: CallImportRow; problems: [] } | { row?: undefined; problems: CallProblem[] } {
  const get = (c: CallColumn) => (text[c] ?? '').trim();
  const problems: CallProblem[] = [];
  const problem = (field: CallColumn, key: string, values: Record<string, string | number>, reason: string) => problems.push({ field, key, values, reason });
  const date = (c: 'opens_on' | 'closes_on' | 'age_on' | 'checked_on', required = false) => {
    const v = get(c);
    if (!v) { if (required) problem(c, 'dateRequired', {}, `${c} is required (YYYY-MM-DD)`); return null; }
    if (!isIsoDate(v)) { problem(c, 'date', { value: v }, `${c} "${v}" must be a date YYYY-MM-DD`); return null; }
    return v;
  };
  const months = (c: 'child_min_months' | 'child_max_months') => {
    const v = get(c);
    if (!v) return null;
    if (!/^\d{1,3}$/.test(v) || Number(v) > 216) { problem(c, 'months', { value: v }, `${c} "${v}" must be a whole number of months, 0–216`); return null; }
    return Number(v);
  };

  const code = get('code').toLowerCase();
  if (!isCallCode(code)) problem('code', 'code', { value: get('code') }, `code "${get('code')}" must be 3–32 lowercase letters, digits or dashes`);
  const kind = get('kind').toLowerCase() as CallKind;
  if (!CALL_KINDS.includes(kind)) problem('kind', 'kind', { value: get('kind') }, `kind "${get('kind')}" must be one of ${CALL_KINDS.join(', ')}`);
  const title = get('title_it');
  if (title.length < 3 || title.length > 120) problem('title_it', 'title', {}, 'title_it is required (3–120 characters)');
  const opens = date('opens_on');
  const closes = date('closes_on');
  if (opens && closes && opens > closes) problem('closes_on', 'datesOrder', { opens, closes }, `opens_on ${opens} is after closes_on ${closes}`);
  const districts = list(get('districts'));
  const badDistricts = districts.filter((d) => !districtCodes.includes(d));
  if (badDistricts.length) problem('districts', 'districts', { values: badDistricts.join(', ') }, `unknown district(s) ${badDistricts.join(', ')}; known: ${districtCodes.join(', ')}`);
  const min = months('child_min_months');
  const max = months('child_max_months');
  if (min !== null && max !== null && min >= max) problem('child_max_months', 'monthsOrder', { min, max }, `child_min_months ${min} must be below child_max_months ${max}`);
  const ageOn = date('age_on');
  const iseeRaw = get('isee_max').replace(/[€\s.]/g, '').replace(',', '.');
  const isee = iseeRaw ? Number(iseeRaw) : null;
  if (isee !== null && !(isee > 0 && isee < 1e7)) problem('isee_max', 'isee', { value: get('isee_max') }, `isee_max "${get('isee_max')}" must be an amount in euros, e.g. 26000`);
  const residence = get('residence').toLowerCase() || null;
  if (residence && !(RESIDENCES as readonly string[]).includes(residence)) problem('residence', 'residence', { value: get('residence') }, `residence "${get('residence')}" must be milan, lombardy or empty`);
  const permit = get('permit').toLowerCase() || null;
  if (permit && !(PERMITS as readonly string[]).includes(permit)) problem('permit', 'permit', { value: get('permit') }, `permit "${get('permit')}" must be sap or empty`);
  const documents = list(get('documents'));
  const badDocs = documents.filter((d) => !(DOCUMENTS as readonly string[]).includes(d));
  if (badDocs.length) problem('documents', 'documents', { values: badDocs.join(', ') }, `unknown document(s) ${badDocs.join(', ')}; known: ${DOCUMENTS.join(', ')}`);
  const how = list(get('apply_how'));
  const badHow = how.filter((h) => !(APPLY_HOW as readonly string[]).includes(h));
  if (badHow.length) problem('apply_how', 'applyHow', { values: badHow.join(', ') }, `unknown apply_how ${badHow.join(', ')}; known: ${APPLY_HOW.join(', ')}`);
  const url = get('apply_url') || null;
  if (url && !/^https:\/\/[^\s]+$/.test(url)) problem('apply_url', 'applyUrl', { value: url }, `apply_url "${url}" must start with https://`);
  const source = get('source');
  if (!source) problem('source', 'source', {}, 'source is required: where this call comes from');
  const checked = date('checked_on', true);
  const unverifiedRaw = get('unverified').toLowerCase();
  const unverified = unverifiedRaw === '' ? false : ['yes', 'true', '1', 'si', 'sì'].includes(unverifiedRaw) ? true : ['no', 'false', '0'].includes(unverifiedRaw) ? false : undefined;
  if (unverified === undefined) problem('unverified', 'unverified', { value: get('unverified') }, 'unverified must be yes, no or empty');
  if (problems.length) return { problems };
  return {
    problems: [],
    row: {
      code, kind, title_it: title, opens_on: opens, closes_on: closes, districts, child_min_months: min, child_max_months: max, age_on: ageOn, isee_max: isee,
      residence: residence as CallImportRow['residence'], permit: permit as CallImportRow['permit'], documents, apply_how: how, apply_url: url, source, checked_on: checked!, unverified: unverified!,
    },
  };
}

/**
 * Calls and measures as a coordinator keeps them in a spreadsheet: one row per call, found by its code (a new
 * code adds a call; an existing one is edited, and reopened if it was closed). Every row is checked first, each
 * line's problems kept apart for the desk to say them in its language.
 */
export function checkCallsCsv(text: string, districtCodes: string[]): { rows: CallImportRow[]; errors: CallRowError[] } {
  const { records, header, errors: headerErrors } = csvColumns(text, CALL_COLUMNS, REQUIRED);
  if (headerErrors.length) return { rows: [], errors: headerErrors.map((e) => ({ ...e, problems: [] })) };

  const rows: CallImportRow[] = [];
  const errors: CallRowError[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records.slice(1)) {
    const cells: CallText = Object.fromEntries(CALL_COLUMNS.map((c) => { const i = header.indexOf(c); return [c, i < 0 ? '' : (fields[i] ?? '')]; }));
    const checked = checkCall(cells, districtCodes);
    const problems = [...checked.problems];
    const code = (cells.code ?? '').trim().toLowerCase();
    const first = isCallCode(code) ? seen.get(code) : undefined;
    // the same code twice in one file is said first, where the code is
    if (first !== undefined) problems.unshift({ field: 'code', key: 'codeTwice', values: { code, line: first }, reason: `code ${code} is already on line ${first}` });
    if (problems.length || !checked.row) { errors.push({ line, reason: problems.map((p) => p.reason).join('; '), problems }); continue; }
    seen.set(code, line);
    rows.push(checked.row);
  }
  return { rows, errors };
}

/** The CSV import's check with each refused line as `line: reason` (the command line's report). */
export function parseCallsCsv(text: string, districtCodes: string[]): { rows: CallImportRow[]; errors: RowError[] } {
  const { rows, errors } = checkCallsCsv(text, districtCodes);
  return { rows, errors: errors.map(({ line, reason }) => ({ line, reason })) };
}
