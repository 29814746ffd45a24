/** A row refused, with the file line it starts on. */
export interface RowError {
  line: number;
  reason: string;
}

/** One CSV record with the file line it starts on (header is line 1). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * RFC 4180 CSV: quoted fields with "" escapes and line breaks, CRLF or LF, a UTF-8 BOM. The delimiter is
 * a comma, or a semicolon when the header uses them (Italian spreadsheets export that way).
 */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.replace(/^\uFEFF/, '');
  const headerEnd = src.search(/\r?\n/);
  const header = headerEnd < 0 ? src : src.slice(0, headerEnd);
  const delimiter = header.includes(';') && !header.includes(',') ? ';' : ',';
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else { if (ch === '\n') line++; field += ch; }
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) { fields.push(field); field = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      fields.push(field);
      if (fields.some((f) => f.trim() !== '')) records.push({ line: startLine, fields });
      fields = [];
      field = '';
      line++;
      startLine = line;
    } else field += ch;
  }
  fields.push(field);
  if (fields.some((f) => f.trim() !== '')) records.push({ line: startLine, fields });
  return records;
}

/** The header row: unknown or missing columns are reported on line 1. */
export function csvColumns(text: string, known: readonly string[], required: readonly string[]) {
  const records = parseCsv(text);
  if (!records.length) return { records, header: [] as string[], errors: [{ line: 1, reason: 'the file is empty' }] };
  const header = records[0]!.fields.map((h) => h.trim().toLowerCase());
  const errors: RowError[] = [];
  const unknown = header.filter((h) => !known.includes(h));
  if (unknown.length) errors.push({ line: 1, reason: `unknown column(s): ${unknown.join(', ')}; expected ${known.join(', ')}` });
  for (const c of required) if (!header.includes(c)) errors.push({ line: 1, reason: `missing column ${c}` });
  return { records, header, errors };
}

/** A real calendar day written YYYY-MM-DD (not 2027-02-30). */
export const isIsoDate = (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v;
