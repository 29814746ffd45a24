/**
 * The knowledge base on the desk: entries found by code or by words of their Italian text, and a form per entry with its
 * texts in the 13 languages, the Italian beside each for reference, and the box that marks it verified. The form is
 * checked entry by entry with the CSV import's rules (`checkKnowledge`); every save is audited with the coordinator who
 * made it, and the bot answers from the new text at its next version check (`kb_version`).
 */
import { formatDate, languageName } from '../../bot/core/format';
import { call } from '../../bot/db/rpc';
import { checkKnowledge, KNOWLEDGE_COLUMNS, parseKnowledgeCsv, type KnowledgeProblem, type KnowledgeRow } from '../../bot/features/needs/knowledge-import';
import { LANGUAGES, textDirection, type Language } from '../../bot/i18n';
import { romeDay } from '../../bot/time';
import { csrfField, esc, fieldAids } from './html';
import type { DeskContext, DeskPage } from './page';
import { readUpload, UPLOAD_WORDS, uploadSection, type UploadOutcome } from './upload';

/** One entry as desk_kb_list returns it. */
export interface DeskKbListed {
  slug: string;
  category: string;
  unverified: boolean;
  active: boolean;
  question_it: string | null;
  languages: string[];
  updated_at: string;
}

interface StoredText {
  question: string;
  phrasings: string[];
  keywords: string;
  answer: string;
}

/** One entry as desk_kb_entry returns it. */
export interface DeskKbEntry {
  slug: string;
  category: string;
  unverified: boolean;
  source: string | null;
  active: boolean;
  texts: Partial<Record<string, StoredText>>;
  verified: { by: string | null; at: string } | null;
}

/** The fields of one language in the form. */
const FIELDS = ['question', 'phrasings', 'keywords', 'answer'] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<string, Record<Field, string>>;

const fieldId = (lang: string, f: Field) => `kb-${lang}-${f}`;
const slugIn = (ctx: DeskContext) => /^\/desk\/knowledge\/([a-z0-9-]{2,60})\/?$/.exec(ctx.url.pathname)?.[1] ?? '';
/** a day and a language's name, as text: t() escapes what it is given, the page escapes what it writes itself */
const day = (ctx: DeskContext, iso: string) => formatDate(ctx.lang, romeDay(new Date(iso)));
const langName = (ctx: DeskContext, l: string) => languageName(ctx.lang, l);

// ---------------------------------------------------------------------------------------------------------------
// the list
// ---------------------------------------------------------------------------------------------------------------

async function listPage(ctx: DeskContext, upload?: UploadOutcome, status = 200): Promise<Response> {
  const { t } = ctx;
  const q = (ctx.url.searchParams.get('q') ?? '').slice(0, 100);
  const entries = await call<DeskKbListed[]>(ctx.db, 'desk_kb_list', { p_staff_id: ctx.staff.id, p_query: q });
  const saved = ctx.url.searchParams.get('saved');
  const count = (name: string) => (/^\d{1,6}$/.test(ctx.url.searchParams.get(name) ?? '') ? Number(ctx.url.searchParams.get(name)) : undefined);
  const [created, updated] = [count('created'), count('updated')];
  const done = saved && /^[a-z0-9-]{2,60}$/.test(saved) ? `<p class="done" role="status">${t('knowledge.done.saved', { code: saved })}</p>`
    : created !== undefined && updated !== undefined ? `<p class="done" role="status">${t('upload.done.knowledge', { created, updated })}</p>` : '';
  const rows = entries.map((e) => {
    const missing = LANGUAGES.filter((l) => !e.languages.includes(l));
    return `<tr${e.active ? '' : ' class="inactive"'}>
<th scope="row"><span class="code">${esc(e.slug)}</span>${e.question_it ? `<br><span lang="it">${esc(e.question_it)}</span>` : ''}</th>
<td>${t(`knowledge.category.${e.category}`)}</td>
<td>${t(e.unverified ? 'knowledge.unverified' : 'knowledge.verified')}</td>
<td>${e.languages.length}/${LANGUAGES.length}${missing.length ? `<br><span class="note">${t('knowledge.missing', { languages: missing.map((l) => langName(ctx, l)).join(', ') })}</span>` : ''}</td>
<td>${esc(day(ctx, e.updated_at))}</td>
<td><a href="/desk/knowledge/${esc(e.slug)}">${t('knowledge.edit')}<span class="vh"> ${esc(e.slug)}</span></a></td>
</tr>`;
  }).join('\n');
  const cols = (['code', 'category', 'verified', 'languages', 'checked', 'edit'] as const).map((k) => `<th scope="col">${t(`knowledge.column.${k}`)}</th>`).join('');
  const table = entries.length
    ? `<div class="table-wrap" role="region" aria-labelledby="kb-results" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows}
</tbody></table></div>`
    : `<p class="note">${t('knowledge.none')}</p>`;
  const body = `${done}
<p>${t('knowledge.intro')}</p>
<form method="get" action="/desk/knowledge" class="form search" role="search">
<div class="field">
<label for="kb-q">${t('knowledge.search.label')}</label>
<p class="hint" id="kb-q-hint">${t('knowledge.search.hint')}</p>
<input type="search" id="kb-q" name="q" value="${esc(q)}" aria-describedby="kb-q-hint" maxlength="100">
</div>
<p><button type="submit">${t('knowledge.search.submit')}</button></p>
</form>
<h2 id="kb-results">${q ? t('knowledge.results', { count: entries.length, q }) : t('knowledge.all', { count: entries.length })}</h2>
${table}
${uploadSection(ctx, { id: 'kb-import', action: '/desk/knowledge/import', words: UPLOAD_WORDS, intro: { columns: KNOWLEDGE_COLUMNS.join(', ') }, extra: `<p>${t('upload.knowledge')}</p>\n`, outcome: upload })}`;
  return ctx.render(t('knowledge.title'), body, { status });
}

// ---------------------------------------------------------------------------------------------------------------
// the form
// ---------------------------------------------------------------------------------------------------------------

const storedValues = (e: DeskKbEntry): Values =>
  Object.fromEntries(LANGUAGES.map((l) => {
    const x = e.texts[l];
    return [l, { question: x?.question ?? '', phrasings: (x?.phrasings ?? []).join('\n'), keywords: x?.keywords ?? '', answer: x?.answer ?? '' }];
  }));

function postedValues(form: FormData): Values {
  const get = (name: string) => { const v = form.get(name); return typeof v === 'string' ? v : ''; };
  return Object.fromEntries(LANGUAGES.map((l) => [l, Object.fromEntries(FIELDS.map((f) => [f, get(`${l}.${f}`)])) as Record<Field, string>]));
}

interface FormState {
  entry: DeskKbEntry;
  values: Values;
  verified: boolean;
  /** problems per language */
  problems: Partial<Record<string, KnowledgeProblem[]>>;
}

function entryForm(ctx: DeskContext, s: FormState): string {
  const { t } = ctx;
  const it = s.entry.texts.it;
  const problemText = (p: KnowledgeProblem) => t(`knowledge.problem.${p.field === 'question' || p.field === 'answer' ? p.field : 'other'}`, { reason: p.reason });
  const field = (l: Language, f: Field) => {
    const id = fieldId(l, f);
    const errors = (s.problems[l] ?? []).filter((p) => p.field === f || (f === 'answer' && !['question', 'answer'].includes(p.field)));
    const hintKey = `knowledge.field.${f}.hint`;
    const aids = fieldAids(id, t(hintKey) === hintKey ? '' : t(hintKey), errors.length ? [errors.map(problemText).join(' ')] : []);
    const attrs = `${aids.attrs} lang="${l}" dir="${textDirection(l)}"`;
    const value = esc(s.values[l]?.[f] ?? '');
    const control = f === 'keywords'
      ? `<input type="text" id="${id}" name="${l}.${f}" value="${value}"${attrs}>`
      : `<textarea id="${id}" name="${l}.${f}" rows="${f === 'answer' ? 6 : f === 'phrasings' ? 4 : 2}"${attrs}>${value}</textarea>`;
    return `<div class="field">
<label for="${id}">${t(`knowledge.field.${f}.label`)}</label>
${aids.hint}${control}
${aids.error}</div>`;
  };
  // the Italian as stored, beside every other language: read-only, for reference
  const reference = (l: Language) => l === 'it' || !it ? '' : `<div class="kb-reference" lang="it" dir="ltr">
<p class="kb-reference-title">${t('knowledge.form.italian')}</p>
<p><strong>${esc(it.question)}</strong></p>
<p>${esc(it.answer)}</p>
</div>`;
  const sections = LANGUAGES.map((l) => {
    const missing = !s.entry.texts[l];
    return `<fieldset class="kb-language" id="kb-${l}">
<legend>${esc(langName(ctx, l))} <span class="code">(${l})</span>${missing ? ` <span class="note">${t('knowledge.form.missing')}</span>` : ''}</legend>
<div class="kb-pair">
<div class="kb-own">
${FIELDS.map((f) => field(l, f)).join('\n')}
</div>
${reference(l)}
</div>
</fieldset>`;
  }).join('\n');
  const all = LANGUAGES.flatMap((l) => (s.problems[l] ?? []).map((p) => ({ l, p })));
  const summary = all.length
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
<h2 id="error-summary-title">${t('knowledge.form.summary')}</h2>
<ul>${all.map(({ l, p }) => `<li><a href="#${fieldId(l, p.field === 'question' ? 'question' : 'answer')}">${esc(langName(ctx, l))}</a>: ${problemText(p)}</li>`).join('')}</ul>
</div>`
    : '';
  const v = s.entry.verified;
  const verifiedNote = v ? `<p class="note" id="kb-verified-note">${t('knowledge.form.verifiedBy', { name: v.by ?? '—', date: day(ctx, v.at) })}</p>` : '';
  return `${summary}
<p>${t('knowledge.form.intro')}</p>
<p>${t('knowledge.form.area')}: ${t(`knowledge.category.${s.entry.category}`)}</p>
<form method="post" action="/desk/knowledge/${esc(s.entry.slug)}" class="form kb-form" novalidate>
${csrfField(ctx.csrf)}
${sections}
<div class="field check"><input type="checkbox" id="kb-verified" name="verified" value="yes"${s.verified ? ' checked' : ''}${v ? ' aria-describedby="kb-verified-note"' : ''}><label for="kb-verified">${t('knowledge.form.verified')}</label>${verifiedNote}</div>
<p class="actions"><button type="submit" class="primary">${t('knowledge.form.save')}</button> <a href="/desk/knowledge">${t('knowledge.form.back')}</a></p>
</form>`;
}

const formPage = (ctx: DeskContext, s: FormState, status = 200) => ctx.render(ctx.t('knowledge.form.title', { code: s.entry.slug }), entryForm(ctx, s), { status });
const notFound = (ctx: DeskContext) => ctx.render(ctx.t('knowledge.title'), `<p>${ctx.t('knowledge.notFound')}</p><p><a href="/desk/knowledge">${ctx.t('knowledge.form.back')}</a></p>`, { status: 404 });
const loadEntry = (ctx: DeskContext) => call<DeskKbEntry | null>(ctx.db, 'desk_kb_entry', { p_staff_id: ctx.staff.id, p_slug: slugIn(ctx) });

/**
 * The form posted: each language checked as one CSV row would be (a language left empty that has no text stays
 * without one); saved and back to the list (303), or shown again with her values and the problems beside them (422).
 */
async function saveEntry(ctx: DeskContext, form: FormData): Promise<Response> {
  const entry = await loadEntry(ctx);
  if (!entry) return ctx.render(ctx.t('knowledge.title'), `<p>${ctx.t('knowledge.notFound')}</p>`, { status: 404 });
  const values = postedValues(form);
  const verified = form.get('verified') === 'yes';
  const problems: FormState['problems'] = {};
  const rows: KnowledgeRow[] = [];
  for (const l of LANGUAGES) {
    const v = values[l]!;
    if (!entry.texts[l] && FIELDS.every((f) => v[f].trim() === '')) continue;
    const checked = checkKnowledge({
      slug: entry.slug, category: entry.category, language: l, question: v.question, answer: v.answer,
      // one way to ask per line in the form; the CSV's "|" between them
      phrasings: v.phrasings.split(/\r?\n/).map((p) => p.trim()).filter(Boolean).join('|'), keywords: v.keywords,
      unverified: verified ? 'no' : 'yes', source: entry.source ?? '', active: entry.active ? 'yes' : 'no',
    });
    if (checked.problems.length || !checked.row) problems[l] = checked.problems;
    else rows.push(checked.row);
  }
  if (Object.keys(problems).length) return formPage(ctx, { entry, values, verified, problems }, 422);
  await call<{ changed: string[] }>(ctx.db, 'desk_kb_save', { p_staff_id: ctx.staff.id, p_slug: entry.slug, p_rows: rows, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'knowledge', op: 'saved', languages: rows.length }, 'desk knowledge entry saved');
  return ctx.redirect(`/desk/knowledge?saved=${encodeURIComponent(entry.slug)}`);
}

/** A CSV of entries and languages: every row checked, then all written in one audited call, or none and the bad lines listed. */
async function importCsv(ctx: DeskContext, form: FormData): Promise<Response> {
  const file = await readUpload(ctx, form, UPLOAD_WORDS);
  if (!('text' in file)) return listPage(ctx, { message: file.message }, file.status);
  const { rows, errors } = parseKnowledgeCsv(file.text);
  // the import's own words: its reasons name the CSV's columns
  if (errors.length) return listPage(ctx, { lines: errors.map((e) => ({ line: e.line, reason: esc(e.reason) })) }, 422);
  if (!rows.length) return listPage(ctx, { message: ctx.t('upload.noRows') }, 422);
  const result = await call<{ created: number; updated: number }>(ctx.db, 'desk_kb_import', { p_staff_id: ctx.staff.id, p_rows: rows, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'knowledge', op: 'imported', rows: rows.length }, 'desk knowledge imported');
  return ctx.redirect(`/desk/knowledge?created=${result.created}&updated=${result.updated}`);
}

export const knowledgePages: DeskPage[] = [
  {
    path: '/desk/knowledge',
    nav: { label: 'knowledge.menu', order: 50, href: '/desk/knowledge' },
    get: (ctx) => listPage(ctx),
  },
  {
    path: '/desk/knowledge/import',
    get: async (ctx) => ctx.redirect('/desk/knowledge#kb-import'),
    post: (ctx, form) => importCsv(ctx, form),
  },
  {
    path: /^\/desk\/knowledge\/[a-z0-9-]{2,60}$/,
    async get(ctx) {
      const entry = await loadEntry(ctx);
      if (!entry) return notFound(ctx);
      return formPage(ctx, { entry, values: storedValues(entry), verified: !entry.unverified, problems: {} });
    },
    post: (ctx, form) => saveEntry(ctx, form),
  },
];
