import { APPLY_HOW, CALL_KINDS, DOCUMENTS, type CallKind } from '../../core/calls';
import { csvColumns, isIsoDate, type RowError } from '../../import/csv';

export const CALL_COLUMNS = ['code', 'kind', 'title_it', 'opens_on', 'closes_on', 'districts', 'child_min_months', 'child_max_months', 'age_on', 'isee_max', 'residence', 'permit', 'documents', 'apply_how', 'apply_url', 'source', 'checked_on', 'unverified'] as const;
const REQUIRED = ['code', 'kind', 'title_it', 'source', 'checked_on'] as const;

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

/** A list cell: values separated by | or spaces (a comma or semicolon would clash with the CSV delimiter). */
const list = (v: string) => v.split(/[|\s]+/).map((x) => x.trim().toLowerCase()).filter(Boolean);

/**
 * Calls and measures as a coordinator keeps them in a spreadsheet: one row per call, found by its code (a new
 * code adds a call; an existing one is edited, and reopened if it was closed). Every row is checked first.
 */
export function parseCallsCsv(text: string, districtCodes: string[]): { rows: CallImportRow[]; errors: RowError[] } {
  const { records, header, errors } = csvColumns(text, CALL_COLUMNS, REQUIRED);
  if (errors.length) return { rows: [], errors };

  const rows: CallImportRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records.slice(1)) {
    const get = (c: (typeof CALL_COLUMNS)[number]) => { const i = header.indexOf(c); return i < 0 ? '' : (fields[i] ?? '').trim(); };
    const problems: string[] = [];
    const date = (c: 'opens_on' | 'closes_on' | 'age_on' | 'checked_on', required = false) => {
      const v = get(c);
      if (!v) { if (required) problems.push(`${c} is required (YYYY-MM-DD)`); return null; }
      if (!isIsoDate(v)) { problems.push(`${c} "${v}" must be a date YYYY-MM-DD`); return null; }
      return v;
    };
    const months = (c: 'child_min_months' | 'child_max_months') => {
      const v = get(c);
      if (!v) return null;
      if (!/^\d{1,3}$/.test(v) || Number(v) > 216) { problems.push(`${c} "${v}" must be a whole number of months, 0–216`); return null; }
      return Number(v);
    };

    const code = get('code').toLowerCase();
    if (!/^[a-z0-9-]{3,32}$/.test(code)) problems.push(`code "${get('code')}" must be 3–32 lowercase letters, digits or dashes`);
    else if (seen.has(code)) problems.push(`code ${code} is already on line ${seen.get(code)}`);
    const kind = get('kind').toLowerCase() as CallKind;
    if (!CALL_KINDS.includes(kind)) problems.push(`kind "${get('kind')}" must be one of ${CALL_KINDS.join(', ')}`);
    const title = get('title_it');
    if (title.length < 3 || title.length > 120) problems.push('title_it is required (3–120 characters)');
    const opens = date('opens_on');
    const closes = date('closes_on');
    if (opens && closes && opens > closes) problems.push(`opens_on ${opens} is after closes_on ${closes}`);
    const districts = list(get('districts'));
    const badDistricts = districts.filter((d) => !districtCodes.includes(d));
    if (badDistricts.length) problems.push(`unknown district(s) ${badDistricts.join(', ')}; known: ${districtCodes.join(', ')}`);
    const min = months('child_min_months');
    const max = months('child_max_months');
    if (min !== null && max !== null && min >= max) problems.push(`child_min_months ${min} must be below child_max_months ${max}`);
    const ageOn = date('age_on');
    const iseeRaw = get('isee_max').replace(/[€\s.]/g, '').replace(',', '.');
    const isee = iseeRaw ? Number(iseeRaw) : null;
    if (isee !== null && !(isee > 0 && isee < 1e7)) problems.push(`isee_max "${get('isee_max')}" must be an amount in euros, e.g. 26000`);
    const residence = get('residence').toLowerCase() || null;
    if (residence && !['milan', 'lombardy'].includes(residence)) problems.push(`residence "${get('residence')}" must be milan, lombardy or empty`);
    const permit = get('permit').toLowerCase() || null;
    if (permit && permit !== 'sap') problems.push(`permit "${get('permit')}" must be sap or empty`);
    const documents = list(get('documents'));
    const badDocs = documents.filter((d) => !(DOCUMENTS as readonly string[]).includes(d));
    if (badDocs.length) problems.push(`unknown document(s) ${badDocs.join(', ')}; known: ${DOCUMENTS.join(', ')}`);
    const how = list(get('apply_how'));
    const badHow = how.filter((h) => !(APPLY_HOW as readonly string[]).includes(h));
    if (badHow.length) problems.push(`unknown apply_how ${badHow.join(', ')}; known: ${APPLY_HOW.join(', ')}`);
    const url = get('apply_url') || null;
    if (url && !/^https:\/\/[^\s]+$/.test(url)) problems.push(`apply_url "${url}" must start with https://`);
    const source = get('source');
    if (!source) problems.push('source is required: where this call comes from');
    const checked = date('checked_on', true);
    const unverifiedRaw = get('unverified').toLowerCase();
    const unverified = unverifiedRaw === '' ? false : ['yes', 'true', '1', 'si', 'sì'].includes(unverifiedRaw) ? true : ['no', 'false', '0'].includes(unverifiedRaw) ? false : undefined;
    if (unverified === undefined) problems.push('unverified must be yes, no or empty');
    if (problems.length) { errors.push({ line, reason: problems.join('; ') }); continue; }
    seen.set(code, line);
    rows.push({
      code, kind, title_it: title, opens_on: opens, closes_on: closes, districts, child_min_months: min, child_max_months: max, age_on: ageOn, isee_max: isee,
      residence: residence as CallImportRow['residence'], permit: permit as CallImportRow['permit'], documents, apply_how: how, apply_url: url, source, checked_on: checked!, unverified: unverified!,
    });
  }
  return { rows, errors };
}
