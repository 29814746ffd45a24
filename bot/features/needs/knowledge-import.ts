import { isLanguage, LANGUAGES } from '../../i18n';
import { csvColumns, type RowError } from '../../import/csv';

export const AREAS = ['health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other'] as const;

export const KNOWLEDGE_COLUMNS = ['slug', 'category', 'language', 'question', 'answer', 'phrasings', 'keywords', 'unverified', 'source', 'active'] as const;
export const SERVICE_COLUMNS = ['name', 'category', 'district', 'address', 'hours', 'phone', 'languages', 'unverified', 'source', 'active'] as const;

/** One knowledge-base entry in one language, as kb_upsert takes it. */
export interface KnowledgeRow {
  slug: string;
  category: string;
  language: string;
  question: string;
  answer: string;
  phrasings: string[];
  keywords: string;
  unverified: boolean;
  source: string | null;
  active: boolean;
}

/** One local service, as services_upsert takes it. */
export interface ServiceRow {
  name: string;
  category: string;
  district_code: string | null;
  address: string | null;
  hours: string | null;
  phone: string | null;
  languages: string[];
  unverified: boolean;
  source: string | null;
  active: boolean;
}

const bool = (v: string, dflt: boolean): boolean | undefined => (v === '' ? dflt : ['yes', 'true', '1', 'si', 'sì'].includes(v.toLowerCase()) ? true : ['no', 'false', '0'].includes(v.toLowerCase()) ? false : undefined);

/** One entry in one language as cells: the CSV's columns, or the desk's form fields. */
export type KnowledgeText = Partial<Record<(typeof KNOWLEDGE_COLUMNS)[number], string>>;

/** One field's problem, in the import's words (`reason`). */
export interface KnowledgeProblem {
  field: (typeof KNOWLEDGE_COLUMNS)[number];
  reason: string;
}

/**
 * One entry in one language checked by the import's rules: the row kb_upsert takes, or every problem found, each with
 * its field. The CSV import and the desk's form both check entries here.
 */
export function checkKnowledge(text: KnowledgeText): { row?: KnowledgeRow; problems: KnowledgeProblem[] } {
  const get = (c: (typeof KNOWLEDGE_COLUMNS)[number]) => (text[c] ?? '').trim();
  const problems: KnowledgeProblem[] = [];
  const slug = get('slug').toLowerCase();
  if (!/^[a-z0-9-]{2,60}$/.test(slug)) problems.push({ field: 'slug', reason: `slug "${get('slug')}" must be 2–60 lowercase letters, digits or dashes` });
  const category = get('category').toLowerCase();
  if (!(AREAS as readonly string[]).includes(category)) problems.push({ field: 'category', reason: `category "${get('category')}" must be one of ${AREAS.join(', ')}` });
  const language = get('language').toLowerCase();
  if (!isLanguage(language)) problems.push({ field: 'language', reason: `language "${get('language')}" must be one of ${LANGUAGES.join(', ')}` });
  const question = get('question');
  if (question.length < 3 || question.length > 300) problems.push({ field: 'question', reason: 'question must be 3–300 characters' });
  const answer = get('answer');
  if (answer.length < 10 || answer.length > 1500) problems.push({ field: 'answer', reason: 'answer must be 10–1500 characters' });
  const unverified = bool(get('unverified'), false);
  const active = bool(get('active'), true);
  if (unverified === undefined || active === undefined) problems.push({ field: unverified === undefined ? 'unverified' : 'active', reason: 'unverified and active must be yes, no or empty' });
  if (problems.length) return { problems };
  return {
    problems,
    row: {
      slug, category, language, question, answer,
      phrasings: get('phrasings').split('|').map((p) => p.trim()).filter(Boolean),
      keywords: get('keywords'), unverified: unverified!, source: get('source') || null, active: active!,
    },
  };
}

/**
 * Knowledge-base edits from a spreadsheet: one row per entry and language, found by slug (a new slug adds
 * an entry). Other ways to ask are separated by "|". Every row is checked first.
 */
export function parseKnowledgeCsv(text: string): { rows: KnowledgeRow[]; errors: RowError[] } {
  const { records, header, errors } = csvColumns(text, KNOWLEDGE_COLUMNS, ['slug', 'category', 'language', 'question', 'answer']);
  if (errors.length) return { rows: [], errors };
  const rows: KnowledgeRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records.slice(1)) {
    const cells: KnowledgeText = {};
    for (const c of KNOWLEDGE_COLUMNS) { const i = header.indexOf(c); cells[c] = i < 0 ? '' : (fields[i] ?? ''); }
    const { row, problems } = checkKnowledge(cells);
    const reasons = problems.map((p) => p.reason);
    const slug = (cells.slug ?? '').trim().toLowerCase();
    const language = (cells.language ?? '').trim().toLowerCase();
    const key = `${slug}:${language}`;
    // the same entry twice in one file: said after the slug, category and language's own problems
    if (seen.has(key)) reasons.splice(problems.filter((p) => ['slug', 'category', 'language'].includes(p.field)).length, 0, `${slug} in ${language} is already on line ${seen.get(key)}`);
    if (reasons.length || !row) { errors.push({ line, reason: reasons.join('; ') }); continue; }
    seen.set(key, line);
    rows.push(row);
  }
  return { rows, errors };
}

/** One service as cells: the CSV's columns, or the desk's form fields. */
export type ServiceText = Partial<Record<(typeof SERVICE_COLUMNS)[number], string>>;

/** One field's problem: a key and values for the desk's words, and the import's own (`reason`). */
export interface ServiceProblem {
  field: (typeof SERVICE_COLUMNS)[number];
  key: 'name' | 'category' | 'district' | 'language' | 'phone' | 'flag';
  values?: Record<string, string>;
  reason: string;
}

/**
 * One service checked by the import's rules: the row services_upsert takes, or every problem found, each with its
 * field. The CSV import and the desk's form both check services here.
 */
export function checkService(text: ServiceText, districts: string[]): { row?: ServiceRow; problems: ServiceProblem[] } {
  const get = (c: (typeof SERVICE_COLUMNS)[number]) => (text[c] ?? '').trim();
  const problems: ServiceProblem[] = [];
  const name = get('name');
  if (name.length < 2 || name.length > 160) problems.push({ field: 'name', key: 'name', reason: 'name must be 2–160 characters' });
  const category = get('category').toLowerCase();
  if (!(AREAS as readonly string[]).includes(category)) problems.push({ field: 'category', key: 'category', values: { value: get('category') }, reason: `category "${get('category')}" must be one of ${AREAS.join(', ')}` });
  const district = get('district').toLowerCase();
  if (district && !districts.includes(district)) problems.push({ field: 'district', key: 'district', values: { value: get('district') }, reason: `district "${get('district')}" is not known; known: ${districts.join(', ')}` });
  const languages = get('languages').toLowerCase().split(/[\s,;|]+/).filter(Boolean);
  const badLanguage = languages.find((l) => !/^[a-z]{2,3}$/.test(l));
  if (badLanguage) problems.push({ field: 'languages', key: 'language', values: { value: badLanguage }, reason: `language "${badLanguage}" must be a two- or three-letter code like it, ar, zh` });
  const phone = get('phone');
  if (phone && !/^[+\d][\d\s/.-]{2,24}$/.test(phone)) problems.push({ field: 'phone', key: 'phone', values: { value: phone }, reason: `phone "${phone}" is not a phone number` });
  const unverified = bool(get('unverified'), false);
  const active = bool(get('active'), true);
  if (unverified === undefined || active === undefined) problems.push({ field: unverified === undefined ? 'unverified' : 'active', key: 'flag', reason: 'unverified and active must be yes, no or empty' });
  if (problems.length) return { problems };
  return {
    problems,
    row: {
      name, category, district_code: district || null, address: get('address') || null, hours: get('hours') || null, phone: phone || null,
      languages: languages.length ? languages : ['it'], unverified: unverified!, source: get('source') || null, active: active!,
    },
  };
}

/** Local services from a spreadsheet: found by name and district (empty district = the whole city). */
export function parseServicesCsv(text: string, districts: string[]): { rows: ServiceRow[]; errors: RowError[] } {
  const { records, header, errors } = csvColumns(text, SERVICE_COLUMNS, ['name', 'category']);
  if (errors.length) return { rows: [], errors };
  const rows: ServiceRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, fields } of records.slice(1)) {
    const cells: ServiceText = {};
    for (const c of SERVICE_COLUMNS) { const i = header.indexOf(c); cells[c] = i < 0 ? '' : (fields[i] ?? ''); }
    const { row, problems } = checkService(cells, districts);
    const reasons = problems.map((p) => p.reason);
    const name = (cells.name ?? '').trim();
    const key = `${name}:${(cells.district ?? '').trim().toLowerCase()}`;
    if (seen.has(key)) reasons.push(`${name} is already on line ${seen.get(key)}`);
    if (reasons.length || !row) { errors.push({ line, reason: reasons.join('; ') }); continue; }
    seen.set(key, line);
    rows.push(row);
  }
  return { rows, errors };
}

const sql = (v: string | null) => (v === null ? 'null' : `'${v.replace(/'/g, "''")}'`);
const sqlArray = (xs: string[]) => `array[${xs.map(sql).join(', ')}]::text[]`;

export interface KnowledgeSource {
  entries: { slug: string; category: string; unverified: boolean; source: string }[];
  texts: Record<string, Record<string, { question: string; phrasings: string[]; keywords: string; answer: string }>>;
}

/**
 * The repository's knowledge base as kb_upsert rows: how edits to supabase/knowledge/*.json reach a database
 * that already ran the seed (seeds run once, as on Supabase). It overwrites those entries' texts there.
 */
export function knowledgeRowsFromSource(src: KnowledgeSource): KnowledgeRow[] {
  return src.entries.flatMap((e) =>
    Object.entries(src.texts)
      .filter(([, texts]) => texts[e.slug])
      .map(([language, texts]) => ({ slug: e.slug, category: e.category, language, ...texts[e.slug]!, unverified: e.unverified, source: e.source, active: true })),
  );
}

/** The seed file: inserts what is missing and leaves entries coordinators edited alone. */
export function knowledgeSeedSql(src: KnowledgeSource): string {
  const out = [
    '-- ============================================================================',
    '-- SEED: the knowledge base, in all 13 languages. Generated from',
    '-- supabase/knowledge/*.json by `npm run seed:knowledge`; do not edit by hand.',
    '-- Idempotent: adds what is missing, leaves edited entries alone.',
    '-- ============================================================================',
    '',
    'insert into public.kb_entries (slug, category, unverified, source) values',
    src.entries.map((e) => `  (${sql(e.slug)}, ${sql(e.category)}, ${e.unverified}, ${sql(e.source)})`).join(',\n'),
    'on conflict (slug) do nothing;',
  ];
  for (const [language, texts] of Object.entries(src.texts).sort(([a], [b]) => a.localeCompare(b))) {
    out.push('', `-- ${language}`, 'insert into public.kb_texts (entry_id, language, question, phrasings, keywords, answer)',
      'select e.id, v.language, v.question, v.phrasings, v.keywords, v.answer from (values');
    out.push(src.entries.filter((e) => texts[e.slug]).map((e) => {
      const x = texts[e.slug]!;
      return `  (${sql(e.slug)}, ${sql(language)}, ${sql(x.question)}, ${sqlArray(x.phrasings)}, ${sql(x.keywords)}, ${sql(x.answer)})`;
    }).join(',\n'));
    out.push(') as v(slug, language, question, phrasings, keywords, answer)', 'join public.kb_entries e on e.slug = v.slug', 'on conflict (entry_id, language) do nothing;');
  }
  return `${out.join('\n')}\n`;
}
