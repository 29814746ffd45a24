/**
 * Nido and housing calls on the desk: the list (open, upcoming, closed), a form per call with the CSV's columns,
 * closing a call, and the CSV import as an upload. The form and the file are checked by the same rules
 * (`checkCall`); every write is audited with the coordinator who made it.
 */
import type { TFunction } from 'i18next';
import { APPLY_HOW, CALL_KINDS, DOCUMENTS, type CallArea } from '../../bot/core/calls';
import { formatDate } from '../../bot/core/format';
import { call } from '../../bot/db/rpc';
import {
  CALL_COLUMNS, checkCall, checkCallsCsv, isCallCode, PERMITS, RESIDENCES,
  type CallColumn, type CallImportRow, type CallProblem, type CallRowError, type CallText,
} from '../../bot/features/calls/import';
import { romeDay } from '../../bot/time';
import { csrfField, esc, fieldAids, SECURITY_HEADERS } from './html';
import type { DeskContext, DeskPage } from './page';
import { readUpload, uploadSection, type UploadWords } from './upload';

/** A call as desk_calls() returns it: the CSV's columns, and whether a coordinator closed it. */
export interface DeskCall extends CallImportRow {
  area: CallArea;
  closed_at: string | null;
  updated_at: string;
}

interface District {
  code: string;
  name: string;
}

export { MAX_UPLOAD_BYTES } from './upload';
const LISTS = ['districts', 'documents', 'apply_how'] as const satisfies readonly CallColumn[];
const isList = (c: CallColumn): c is (typeof LISTS)[number] => (LISTS as readonly string[]).includes(c);
/** A list as the CSV writes it, read the way checkCall reads it. */
const listOf = (v: string | undefined) => (v ?? '').split(/[|\s]+/).map((x) => x.trim().toLowerCase()).filter(Boolean);

type State = 'open' | 'upcoming' | 'closed';
/** Where a call stands for a family today: closed by a coordinator or past its deadline, not open yet, or open. */
export function callState(c: Pick<DeskCall, 'opens_on' | 'closes_on' | 'closed_at'>, today: string): State {
  if (c.closed_at || (c.closes_on && c.closes_on < today)) return 'closed';
  if (c.opens_on && c.opens_on > today) return 'upcoming';
  return 'open';
}

/** An amount the import reads back as the same number: 26000, or 26000,5 (a dot would be read as thousands). */
const amount = (n: number) => (Number.isInteger(n) ? String(n) : String(n).replace('.', ','));

/** A stored call as the form's fields (and the CSV's cells) write it. */
export function callText(c: CallImportRow): CallText {
  return {
    code: c.code, kind: c.kind, title_it: c.title_it, opens_on: c.opens_on ?? '', closes_on: c.closes_on ?? '', districts: c.districts.join('|'),
    child_min_months: c.child_min_months == null ? '' : String(c.child_min_months), child_max_months: c.child_max_months == null ? '' : String(c.child_max_months),
    age_on: c.age_on ?? '', isee_max: c.isee_max == null ? '' : amount(Number(c.isee_max)), residence: c.residence ?? '', permit: c.permit ?? '',
    documents: c.documents.join('|'), apply_how: c.apply_how.join('|'), apply_url: c.apply_url ?? '', source: c.source, checked_on: c.checked_on,
    unverified: c.unverified ? 'yes' : 'no',
  };
}

/** What the form posted, as the CSV's cells: a list's ticked boxes joined as the CSV joins them. */
function postedText(form: FormData): CallText {
  const text: CallText = {};
  for (const c of CALL_COLUMNS) {
    text[c] = isList(c)
      ? form.getAll(c).filter((v): v is string => typeof v === 'string').join('|')
      : (() => { const v = form.get(c); return typeof v === 'string' ? v : ''; })();
  }
  return text;
}

const csvCell = (v: string) => (/[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v);
/** Every call in the import's own format: download, edit in a spreadsheet, upload again. */
export const callsCsv = (calls: DeskCall[]) =>
  [CALL_COLUMNS.join(','), ...calls.map((c) => { const text = callText(c); return CALL_COLUMNS.map((col) => csvCell(text[col] ?? '')).join(','); })].join('\r\n') + '\r\n';

const loadCalls = (ctx: DeskContext) => call<DeskCall[]>(ctx.db, 'desk_calls', { p_staff_id: ctx.staff.id });
const loadDistricts = (ctx: DeskContext) => call<District[]>(ctx.db, 'districts_list');
const day = (ctx: DeskContext, d: string) => esc(formatDate(ctx.lang, d));
/** The code of /desk/calls/<code> or /desk/calls/<code>/close. */
const codeIn = (ctx: DeskContext) => /^\/desk\/calls\/([a-z0-9-]{3,32})(?:\/close)?\/?$/.exec(ctx.url.pathname)?.[1] ?? '';
const problemText = (t: TFunction, p: CallProblem) => t(`calls.problem.${p.key}`, p.values);

// ---------------------------------------------------------------------------------------------------------------
// the list
// ---------------------------------------------------------------------------------------------------------------

interface ImportOutcome {
  /** a problem with the file itself */
  message?: string;
  /** the lines refused */
  errors?: CallRowError[];
}

function doneNotice(ctx: DeskContext, calls: DeskCall[]): string {
  const q = ctx.url.searchParams;
  const known = (code: string | null) => (code && calls.some((c) => c.code === code) ? code : undefined);
  const count = (name: string) => (/^\d{1,6}$/.test(q.get(name) ?? '') ? Number(q.get(name)) : undefined);
  let text: string | undefined;
  for (const what of ['added', 'saved', 'reopened', 'closed'] as const) {
    const code = known(q.get(what));
    if (code) text = ctx.t(`calls.done.${what}`, { code });
  }
  const imported = count('imported');
  const added = count('added');
  if (imported !== undefined && added !== undefined && added <= imported) text = ctx.t('calls.done.imported', { added, updated: imported - added });
  return text ? `<p class="done" role="status">${text}</p>` : '';
}

function districtNames(ctx: DeskContext, codes: string[], districts: District[]): string {
  if (!codes.length) return ctx.t('calls.wholeCity');
  return codes.map((code) => esc(districts.find((d) => d.code === code)?.name ?? code)).join(', ');
}

function callsTable(ctx: DeskContext, state: State, calls: DeskCall[], districts: District[]): string {
  const { t } = ctx;
  const id = `calls-${state}`;
  const head = `<h2 id="${id}">${t(`calls.group.${state}`)} <span class="count">(${t('calls.count', { count: calls.length })})</span></h2>`;
  if (!calls.length) return `<section aria-labelledby="${id}">${head}<p class="note">${t('calls.empty')}</p></section>`;
  const rows = calls.map((c) => {
    const closes = c.closed_at ? t('calls.closedOn', { date: formatDate(ctx.lang, romeDay(new Date(c.closed_at))) }) : c.closes_on ? day(ctx, c.closes_on) : t('calls.noDeadline');
    const checked = t(c.unverified ? 'calls.unverifiedOn' : 'calls.verifiedOn', { date: formatDate(ctx.lang, c.checked_on) });
    return `<tr>
<th scope="row">${esc(c.title_it)}<br><span class="code">${esc(c.code)}</span></th>
<td>${t(`calls.kind.${c.kind}`)}</td>
<td>${c.opens_on ? day(ctx, c.opens_on) : t('calls.noDate')}</td>
<td>${closes}</td>
<td>${districtNames(ctx, c.districts, districts)}</td>
<td>${checked}</td>
<td><a href="/desk/calls/${esc(c.code)}">${t('calls.edit')}<span class="vh"> ${esc(c.title_it)}</span></a></td>
</tr>`;
  }).join('\n');
  const cols = (['title', 'kind', 'opens', 'closes', 'districts', 'verified', 'edit'] as const).map((k) => `<th scope="col">${t(`calls.column.${k}`)}</th>`).join('');
  return `<section aria-labelledby="${id}">${head}
<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows}
</tbody></table></div></section>`;
}

const CALL_WORDS: UploadWords = {
  title: 'calls.import.title', intro: 'calls.import.intro', file: 'calls.import.file', submit: 'calls.import.submit', failed: 'calls.import.failed',
  line: 'calls.import.line', noFile: 'calls.import.noFile', tooBig: 'calls.import.tooBig', notUtf8: 'calls.import.notUtf8',
};

function importSection(ctx: DeskContext, outcome: ImportOutcome = {}): string {
  const { t } = ctx;
  return uploadSection(ctx, {
    id: 'calls-import',
    action: '/desk/calls/import',
    words: CALL_WORDS,
    intro: { columns: CALL_COLUMNS.join(', ') },
    extra: `<p><a href="/desk/calls.csv" download>${t('calls.download')}</a></p>\n`,
    outcome: {
      message: outcome.message,
      // a line's problems in the desk's language, each after its column; the header's in the import's own words
      lines: outcome.errors?.map((e) => ({
        line: e.line,
        reason: e.problems.length ? e.problems.map((p) => `<code>${esc(p.field)}</code>: ${problemText(t, p)}`).join('; ') : esc(e.reason),
      })),
    },
  });
}

async function listPage(ctx: DeskContext, outcome?: ImportOutcome, status = 200): Promise<Response> {
  const { t } = ctx;
  const [calls, districts] = await Promise.all([loadCalls(ctx), loadDistricts(ctx)]);
  const today = romeDay(ctx.now);
  const by = (s: State) => calls.filter((c) => callState(c, today) === s);
  const body = `${doneNotice(ctx, calls)}
<p>${t('calls.intro')}</p>
<p><a class="button" href="/desk/calls/new">${t('calls.new')}</a></p>
${(['open', 'upcoming', 'closed'] as const).map((s) => callsTable(ctx, s, by(s), districts)).join('\n')}
${importSection(ctx, outcome)}`;
  return ctx.render(t('calls.title'), body, { status });
}

// ---------------------------------------------------------------------------------------------------------------
// the form
// ---------------------------------------------------------------------------------------------------------------

interface FormState {
  mode: 'new' | 'edit';
  values: CallText;
  problems: CallProblem[];
  stored?: DeskCall;
  districts: District[];
  /** the close form's own problem */
  closeError?: string;
}

const fieldId = (c: string) => `f-${c}`;

function callForm(ctx: DeskContext, s: FormState): string {
  const { t } = ctx;
  const today = romeDay(ctx.now);
  const errorsOf = (c: CallColumn) => s.problems.filter((p) => p.field === c).map((p) => problemText(t, p));
  const hintOf = (c: CallColumn) => { const key = `calls.field.${c}.hint`; const h = t(key); return h === key ? '' : h; };
  const label = (c: CallColumn) => t(`calls.field.${c}.label`);
  const required = (c: CallColumn) => ['code', 'kind', 'title_it', 'source', 'checked_on'].includes(c);
  /** the hint and the error under a field, and the attributes that tie them to it */
  const aids = (c: CallColumn) => fieldAids(fieldId(c), hintOf(c), errorsOf(c));
  const labelOf = (c: CallColumn) => `${label(c)}${required(c) ? ` <span class="required">(${t('calls.form.required')})</span>` : ''}`;
  const value = (c: CallColumn) => esc(s.values[c] ?? '');

  const input = (c: CallColumn, type: 'text' | 'date' | 'url', extra = '') => {
    const a = aids(c);
    return `<div class="field">
<label for="${fieldId(c)}">${labelOf(c)}</label>
${a.hint}<input type="${type}" id="${fieldId(c)}" name="${c}" value="${value(c)}"${required(c) ? ' required' : ''}${a.attrs}${extra}>
${a.error}</div>`;
  };
  const select = (c: CallColumn, options: { value: string; label: string }[]) => {
    const a = aids(c);
    const current = s.values[c] ?? '';
    // a value not in the list (a file's, or a forged one) stays shown, with its error
    const all = current && !options.some((o) => o.value === current) ? [...options, { value: current, label: esc(current) }] : options;
    return `<div class="field">
<label for="${fieldId(c)}">${labelOf(c)}</label>
${a.hint}<select id="${fieldId(c)}" name="${c}"${required(c) ? ' required' : ''}${a.attrs}>
${all.map((o) => `<option value="${esc(o.value)}"${o.value === current ? ' selected' : ''}>${o.label}</option>`).join('\n')}
</select>
${a.error}</div>`;
  };
  const checks = (c: (typeof LISTS)[number], options: { value: string; label: string }[]) => {
    const a = aids(c);
    const ticked = listOf(s.values[c]);
    // a value the list does not know (a file's, a forged one, a district since retired) stays ticked: the one marked invalid
    const unknown = ticked.filter((v) => !options.some((o) => o.value === v));
    const all = [...options, ...unknown.map((v) => ({ value: v, label: esc(v) }))];
    const described = a.attrs.replace(' aria-invalid="true"', '');
    const boxes = all.map((o) => {
      const id = `${fieldId(c)}-${o.value.replace(/[^a-z0-9_-]/gi, '_')}`;
      const invalid = unknown.includes(o.value) && errorsOf(c).length ? ' aria-invalid="true"' : '';
      return `<div class="check"><input type="checkbox" id="${id}" name="${c}" value="${esc(o.value)}"${ticked.includes(o.value) ? ' checked' : ''}${described}${invalid}><label for="${id}">${o.label}</label></div>`;
    }).join('\n');
    return `<fieldset class="field" id="${fieldId(c)}"${described}>
<legend>${labelOf(c)}</legend>
${a.hint}<div class="checks">
${boxes}
</div>
${a.error}</fieldset>`;
  };

  const codeField = s.mode === 'edit'
    ? (() => { const a = aids('code'); return `<div class="field">
<label for="${fieldId('code')}">${label('code')}</label>
${a.hint}<input type="text" id="${fieldId('code')}" name="code" value="${value('code')}" readonly${a.attrs}>
${a.error}</div>`; })()
    : input('code', 'text', ' maxlength="32" autocapitalize="none" spellcheck="false"');
  const unverified = (() => {
    const a = aids('unverified');
    const on = ['yes', 'true', '1', 'si', 'sì'].includes((s.values.unverified ?? '').trim().toLowerCase());
    return `<div class="field check"><input type="checkbox" id="${fieldId('unverified')}" name="unverified" value="yes"${on ? ' checked' : ''}${a.attrs}><label for="${fieldId('unverified')}">${label('unverified')}</label>${a.error}</div>`;
  })();

  // every field's problems, first to last, each a link to its field
  const summary = s.problems.length
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
<h2 id="error-summary-title">${t('calls.form.summary')}</h2>
<ul>${s.problems.map((p) => `<li><a href="#${fieldId(p.field)}">${label(p.field)}</a>: ${problemText(t, p)}</li>`).join('')}</ul>
</div>`
    : '';
  const closedNote = s.stored?.closed_at ? `<p class="warning">${t('calls.form.closedNote', { date: formatDate(ctx.lang, romeDay(new Date(s.stored.closed_at))) })}</p>` : '';
  const action = s.mode === 'new' ? '/desk/calls/new' : `/desk/calls/${esc(s.values.code ?? '')}`;
  // an option holds text only: the code the CSV uses in brackets
  const option = (prefix: string) => (v: string) => ({ value: v, label: `${t(`${prefix}.${v}`)} (${esc(v)})` });
  const box = (prefix: string) => (v: string) => ({ value: v, label: `${t(`${prefix}.${v}`)} <span class="code">(${esc(v)})</span>` });

  const form = `${summary}${closedNote}
<form method="post" action="${action}" class="form call-form" novalidate>
${csrfField(ctx.csrf)}
<fieldset><legend>${t('calls.form.section.what')}</legend>
${codeField}
${select('kind', [{ value: '', label: t('calls.form.choose') }, ...CALL_KINDS.map(option('calls.kind'))])}
${input('title_it', 'text', ' maxlength="120"')}
</fieldset>
<fieldset><legend>${t('calls.form.section.when')}</legend>
${input('opens_on', 'date')}
${input('closes_on', 'date')}
</fieldset>
<fieldset><legend>${t('calls.form.section.who')}</legend>
${checks('districts', s.districts.map((d) => ({ value: d.code, label: `${esc(d.name)} <span class="code">(${esc(d.code)})</span>` })))}
${input('child_min_months', 'text', ' inputmode="numeric"')}
${input('child_max_months', 'text', ' inputmode="numeric"')}
${input('age_on', 'date')}
${input('isee_max', 'text', ' inputmode="decimal"')}
${select('residence', [{ value: '', label: t('calls.field.residence.none') }, ...RESIDENCES.map((r) => ({ value: r, label: t(`calls.field.residence.${r}`) }))])}
${select('permit', [{ value: '', label: t('calls.field.permit.none') }, ...PERMITS.map((p) => ({ value: p, label: t(`calls.field.permit.${p}`) }))])}
</fieldset>
<fieldset><legend>${t('calls.form.section.apply')}</legend>
${checks('documents', DOCUMENTS.map(box('calls.doc')))}
${checks('apply_how', APPLY_HOW.map(box('calls.how')))}
${input('apply_url', 'url')}
</fieldset>
<fieldset><legend>${t('calls.form.section.source')}</legend>
${input('source', 'text')}
${input('checked_on', 'date')}
${unverified}
</fieldset>
<p class="actions"><button type="submit" class="primary">${t('calls.form.save')}</button> <a href="/desk/calls">${t('calls.form.back')}</a></p>
</form>`;

  const closable = s.mode === 'edit' && s.stored && callState(s.stored, today) !== 'closed';
  const close = closable
    ? `<section aria-labelledby="close-title" class="close-call">
<h2 id="close-title">${t('calls.close.title')}</h2>
<form method="post" action="/desk/calls/${esc(s.stored!.code)}/close" class="form">
${csrfField(ctx.csrf)}
<p id="close-text">${t('calls.close.text')}</p>
<div class="field check"><input type="checkbox" id="close-confirm" name="confirm" value="yes" required aria-describedby="close-text${s.closeError ? ' close-error' : ''}"${s.closeError ? ' aria-invalid="true"' : ''}><label for="close-confirm">${t('calls.close.confirm', { code: s.stored!.code })}</label>
${s.closeError ? `<p class="field-error" id="close-error" role="alert">${s.closeError}</p>` : ''}</div>
<p><button type="submit">${t('calls.close.submit')}</button></p>
</form>
</section>`
    : '';
  return form + close;
}

function formPage(ctx: DeskContext, s: FormState, status = 200): Response {
  const title = s.mode === 'new' ? ctx.t('calls.form.newTitle') : ctx.t('calls.form.editTitle', { code: s.values.code ?? '' });
  return ctx.render(title, callForm(ctx, s), { status });
}

const notFound = (ctx: DeskContext) => ctx.render(ctx.t('calls.title'), `<p>${ctx.t('calls.notFound')}</p><p><a href="/desk/calls">${ctx.t('calls.form.back')}</a></p>`, { status: 404 });

/** A form posted: checked by the import's rules, then saved (303 to the list) or shown again with its errors (422). */
async function saveCall(ctx: DeskContext, form: FormData, mode: 'new' | 'edit'): Promise<Response> {
  const [calls, districts] = await Promise.all([loadCalls(ctx), loadDistricts(ctx)]);
  const values = postedText(form);
  let stored: DeskCall | undefined;
  if (mode === 'edit') {
    // the code is the call's name: the path says which call, whatever the form says
    stored = calls.find((c) => c.code === codeIn(ctx));
    if (!stored) return notFound(ctx);
    values.code = stored.code;
    // the boxes come in the form's order: what was ticked keeps the call's own order, what is new follows
    for (const c of LISTS) {
      const ticked = listOf(values[c]);
      values[c] = [...stored[c].filter((v) => ticked.includes(v)), ...ticked.filter((v) => !stored![c].includes(v))].join('|');
    }
  }
  const checked = checkCall(values, districts.map((d) => d.code));
  const problems = [...checked.problems];
  const code = (values.code ?? '').trim().toLowerCase();
  if (mode === 'new' && isCallCode(code) && calls.some((c) => c.code === code)) {
    problems.unshift({ field: 'code', key: 'codeTaken', values: { code }, reason: `a call with code ${code} already exists` });
  }
  if (problems.length || !checked.row) return formPage(ctx, { mode, values, problems, stored, districts }, 422);
  const saved = await call<{ code: string; added: boolean; reopened: boolean }>(ctx.db, 'desk_call_save', { p_staff_id: ctx.staff.id, p_call: checked.row, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'calls', op: saved.added ? 'added' : 'saved' }, 'desk call saved');
  const what = saved.added ? 'added' : saved.reopened ? 'reopened' : 'saved';
  return ctx.redirect(`/desk/calls?${what}=${encodeURIComponent(saved.code)}`);
}

async function importCsv(ctx: DeskContext, form: FormData): Promise<Response> {
  const { t } = ctx;
  const file = await readUpload(ctx, form, CALL_WORDS);
  if (!('text' in file)) return listPage(ctx, { message: file.message }, file.status);
  const { text } = file;
  const districts = await loadDistricts(ctx);
  const { rows, errors } = checkCallsCsv(text, districts.map((d) => d.code));
  if (errors.length) return listPage(ctx, { errors }, 422);
  if (!rows.length) return listPage(ctx, { message: t('calls.import.noRows') }, 422);
  const result = await call<{ added: number; updated: number }>(ctx.db, 'desk_calls_import', { p_staff_id: ctx.staff.id, p_rows: rows, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'calls', op: 'imported', rows: rows.length }, 'desk calls imported');
  return ctx.redirect(`/desk/calls?imported=${rows.length}&added=${result.added}`);
}

export const callPages: DeskPage[] = [
  {
    path: '/desk/calls',
    nav: { label: 'calls.menu', order: 20, href: '/desk/calls' },
    get: (ctx) => listPage(ctx),
  },
  {
    path: '/desk/calls.csv',
    async get(ctx) {
      const calls = await loadCalls(ctx);
      return new Response(callsCsv(calls), {
        status: 200,
        headers: { ...SECURITY_HEADERS, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="calls-${romeDay(ctx.now)}.csv"` },
      });
    },
  },
  {
    path: '/desk/calls/import',
    get: async (ctx) => ctx.redirect('/desk/calls#calls-import'),
    post: (ctx, form) => importCsv(ctx, form),
  },
  {
    path: '/desk/calls/new',
    async get(ctx) {
      const districts = await loadDistricts(ctx);
      return formPage(ctx, { mode: 'new', values: { checked_on: romeDay(ctx.now), unverified: 'no' }, problems: [], districts });
    },
    post: (ctx, form) => saveCall(ctx, form, 'new'),
  },
  {
    path: /^\/desk\/calls\/[a-z0-9-]{3,32}\/close$/,
    async post(ctx, form) {
      const [calls, districts] = await Promise.all([loadCalls(ctx), loadDistricts(ctx)]);
      const stored = calls.find((c) => c.code === codeIn(ctx));
      if (!stored) return notFound(ctx);
      if (form.get('confirm') !== 'yes') {
        return formPage(ctx, { mode: 'edit', values: callText(stored), problems: [], stored, districts, closeError: ctx.t('calls.close.needConfirm') }, 422);
      }
      await call<string>(ctx.db, 'calls_close', { p_staff_id: ctx.staff.id, p_code: stored.code, p_now: ctx.now.toISOString() });
      ctx.logger.info({ desk: 'calls', op: 'closed' }, 'desk call closed');
      return ctx.redirect(`/desk/calls?closed=${encodeURIComponent(stored.code)}`);
    },
  },
  {
    path: /^\/desk\/calls\/[a-z0-9-]{3,32}$/,
    async get(ctx) {
      const [calls, districts] = await Promise.all([loadCalls(ctx), loadDistricts(ctx)]);
      const stored = calls.find((c) => c.code === codeIn(ctx));
      if (!stored) return notFound(ctx);
      return formPage(ctx, { mode: 'edit', values: callText(stored), problems: [], stored, districts });
    },
    post: (ctx, form) => saveCall(ctx, form, 'edit'),
  },
];
