/**
 * The care calendar on the desk: every vaccine dose, check-up and pregnancy step, and a form per row with the CSV's
 * columns, checked by the import's own rules (`checkCalendarItem`) and written as the import writes it: a changed row
 * makes every child be planned again at the reminders' next run. Every save is audited with the coordinator.
 */
import { call } from '../../bot/db/rpc';
import { formatDate } from '../../bot/core/format';
import { CALENDAR_COLUMNS, checkCalendarItem, parseCalendarCsv, type CalendarColumn, type CalendarProblem, type CalendarRow, type CalendarText } from '../../bot/features/care/import';
import { romeDay } from '../../bot/time';
import { csrfField, esc, fieldAids } from './html';
import type { DeskContext, DeskPage } from './page';
import { readUpload, UPLOAD_WORDS, uploadSection, type UploadOutcome } from './upload';

/** A calendar row as desk_calendar() returns it. */
export interface DeskCareItem extends CalendarRow {
  updated_at: string;
}

type Problem = Pick<CalendarProblem, 'field' | 'values'> & { key: CalendarProblem['key'] | 'taken' };

const KINDS = ['vaccine', 'checkup', 'pregnancy'] as const;
const FLAGS = ['mandatory', 'verified', 'active'] as const;
const PATH = /^\/desk\/calendar\/([a-z0-9-]{2,40})$/;
const loadItems = (ctx: DeskContext) => call<DeskCareItem[]>(ctx.db, 'desk_calendar', { p_staff_id: ctx.staff.id });
const problemText = (ctx: DeskContext, p: Problem) => ctx.t(`calendar.problem.${p.key}`, p.values);
const isFlag = (c: CalendarColumn): c is (typeof FLAGS)[number] => (FLAGS as readonly string[]).includes(c);

/** A stored row as the form's fields (and the CSV's cells) write it. */
export function itemText(i: CalendarRow): CalendarText {
  return {
    code: i.code, kind: i.kind, group_key: i.group_key, dose: String(i.dose), name_it: i.name_it, region: i.region,
    offset_months: String(i.offset_months), offset_days: String(i.offset_days), window_days: String(i.window_days),
    min_gap_days: i.min_gap_days == null ? '' : String(i.min_gap_days), mandatory: i.mandatory ? 'yes' : 'no', verified: i.verified ? 'yes' : 'no',
    source: i.source, checked_on: i.checked_on, active: i.active ? 'yes' : 'no',
  };
}

/** What the form posted, as the CSV's cells: a box not ticked is "no". */
function postedText(form: FormData): CalendarText {
  const text: CalendarText = {};
  for (const c of CALENDAR_COLUMNS) {
    const v = form.get(c);
    text[c] = isFlag(c) ? (v === 'yes' ? 'yes' : 'no') : typeof v === 'string' ? v : '';
  }
  return text;
}

/** When a row falls: "2 months 10 days" after the birth, or before/after the due date for a pregnancy step. */
function offsetText(ctx: DeskContext, i: CalendarRow): string {
  const parts = [i.offset_months && ctx.t('calendar.months', { count: i.offset_months }), i.offset_days && ctx.t('calendar.days', { count: i.offset_days })].filter(Boolean);
  const after = parts.length ? parts.join(' ') : ctx.t('calendar.atOnce');
  return ctx.t(i.kind === 'pregnancy' ? 'calendar.fromDue' : 'calendar.fromBirth', { offset: after });
}

function doneNotice(ctx: DeskContext, items: DeskCareItem[]): string {
  const q = ctx.url.searchParams;
  for (const what of ['added', 'saved', 'unchanged'] as const) {
    const code = q.get(what);
    if (code && items.some((i) => i.code === code)) return `<p class="done" role="status">${ctx.t(`calendar.done.${what}`, { code })}</p>`;
  }
  const count = (name: string) => (/^\d{1,6}$/.test(q.get(name) ?? '') ? Number(q.get(name)) : undefined);
  const [added, updated] = [count('imported_added'), count('imported_updated')];
  if (added !== undefined && updated !== undefined) return `<p class="done" role="status">${ctx.t('upload.done.calendar', { added, updated })}</p>`;
  return '';
}

async function listPage(ctx: DeskContext, upload?: UploadOutcome, status = 200): Promise<Response> {
  const { t } = ctx;
  const items = await loadItems(ctx);
  const sections = KINDS.map((kind) => {
    const id = `calendar-${kind}`;
    const rows = items.filter((i) => i.kind === kind).map((i) => `<tr>
<th scope="row">${esc(i.name_it)}<br><span class="code">${esc(i.code)}</span></th>
<td>${offsetText(ctx, i)}</td>
<td>${t('calendar.windowDays', { count: i.window_days })}</td>
<td>${t(i.mandatory ? 'calendar.yes' : 'calendar.no')}</td>
<td>${t(i.verified ? 'calendar.verifiedOn' : 'calendar.unverifiedOn', { date: formatDate(ctx.lang, i.checked_on) })}</td>
<td>${t(i.active ? 'calendar.active' : 'calendar.inactive')}</td>
<td><a href="/desk/calendar/${esc(i.code)}">${t('calendar.edit')}<span class="vh"> ${esc(i.name_it)}</span></a></td>
</tr>`);
    const cols = (['name', 'when', 'window', 'mandatory', 'verified', 'active', 'edit'] as const).map((k) => `<th scope="col">${t(`calendar.column.${k}`)}</th>`).join('');
    return `<section aria-labelledby="${id}">
<h2 id="${id}">${t(`calendar.kind.${kind}`)} <span class="count">(${rows.length})</span></h2>
${rows.length ? `<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div>` : `<p class="note">${t('calendar.empty')}</p>`}
</section>`;
  }).join('\n');
  return ctx.render(t('calendar.title'), `${doneNotice(ctx, items)}
<p>${t('calendar.intro')}</p>
<p><a class="button" href="/desk/calendar/new">${t('calendar.new')}</a></p>
${sections}
${uploadSection(ctx, { id: 'calendar-import', action: '/desk/calendar/import', words: UPLOAD_WORDS, intro: { columns: CALENDAR_COLUMNS.join(', ') }, extra: `<p>${t('upload.calendar')}</p>\n`, outcome: upload })}`, { status });
}

/**
 * A CSV of calendar rows: every row checked, then all written in one audited call (a changed row re-plans every child
 * at the next run, as the command-line import does), or none and the bad lines listed.
 */
async function importCsv(ctx: DeskContext, form: FormData): Promise<Response> {
  const file = await readUpload(ctx, form, UPLOAD_WORDS);
  if (!('text' in file)) return listPage(ctx, { message: file.message }, file.status);
  const { rows, errors } = parseCalendarCsv(file.text);
  // the import's own words: its reasons name the CSV's columns
  if (errors.length) return listPage(ctx, { lines: errors.map((e) => ({ line: e.line, reason: esc(e.reason) })) }, 422);
  if (!rows.length) return listPage(ctx, { message: ctx.t('upload.noRows') }, 422);
  const result = await call<{ added: number; updated: number }>(ctx.db, 'desk_calendar_import', { p_staff_id: ctx.staff.id, p_items: rows, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'calendar', op: 'imported', rows: rows.length }, 'desk calendar imported');
  return ctx.redirect(`/desk/calendar?imported_added=${result.added}&imported_updated=${result.updated}`);
}

interface FormState {
  stored?: DeskCareItem;
  values: CalendarText;
  problems: Problem[];
}

function formPage(ctx: DeskContext, s: FormState, status = 200): Response {
  const { t } = ctx;
  const fieldId = (c: CalendarColumn) => `f-${c}`;
  const aids = (c: CalendarColumn) => {
    const hintKey = `calendar.field.${c}.hint`;
    return fieldAids(fieldId(c), t(hintKey) === hintKey ? '' : t(hintKey), s.problems.filter((p) => p.field === c).map((p) => problemText(ctx, p)));
  };
  const required = (c: CalendarColumn) => ['code', 'kind', 'group_key', 'name_it', 'window_days', 'source', 'checked_on'].includes(c);
  const label = (c: CalendarColumn) => `${t(`calendar.field.${c}.label`)}${required(c) ? ` <span class="required">(${t('calendar.form.required')})</span>` : ''}`;
  const input = (c: CalendarColumn, type: 'text' | 'date' = 'text', extra = '') => {
    const a = aids(c);
    return `<div class="field">
<label for="${fieldId(c)}">${label(c)}</label>
${a.hint}<input type="${type}" id="${fieldId(c)}" name="${c}" value="${esc(s.values[c] ?? '')}"${required(c) ? ' required' : ''}${a.attrs}${extra}>
${a.error}</div>`;
  };
  const kindSelect = () => {
    const a = aids('kind');
    const current = s.values.kind ?? '';
    const options = [{ value: '', label: t('calendar.form.choose') }, ...KINDS.map((k) => ({ value: k, label: `${t(`calendar.kind.${k}`)} (${k})` }))];
    const all = current && !options.some((o) => o.value === current) ? [...options, { value: current, label: esc(current) }] : options;
    return `<div class="field">
<label for="${fieldId('kind')}">${label('kind')}</label>
${a.hint}<select id="${fieldId('kind')}" name="kind" required${a.attrs}>
${all.map((o) => `<option value="${esc(o.value)}"${o.value === current ? ' selected' : ''}>${o.label}</option>`).join('\n')}
</select>
${a.error}</div>`;
  };
  const box = (c: (typeof FLAGS)[number]) => {
    const a = aids(c);
    const on = ['yes', 'true', '1', 'si', 'sì'].includes((s.values[c] ?? '').trim().toLowerCase());
    return `<div class="field check"><input type="checkbox" id="${fieldId(c)}" name="${c}" value="yes"${on ? ' checked' : ''}${a.attrs}><label for="${fieldId(c)}">${t(`calendar.field.${c}.label`)}</label>${a.error}</div>`;
  };
  const summary = s.problems.length
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
<h2 id="error-summary-title">${t('calendar.form.summary')}</h2>
<ul>${s.problems.map((p) => `<li><a href="#${fieldId(p.field)}">${t(`calendar.field.${p.field}.label`)}</a>: ${problemText(ctx, p)}</li>`).join('')}</ul>
</div>`
    : '';
  const codeField = s.stored
    ? (() => { const a = aids('code'); return `<div class="field">
<label for="${fieldId('code')}">${t('calendar.field.code.label')}</label>
${a.hint}<input type="text" id="${fieldId('code')}" name="code" value="${esc(s.stored.code)}" readonly${a.attrs}>
${a.error}</div>`; })()
    : input('code', 'text', ' maxlength="40" autocapitalize="none" spellcheck="false"');
  const action = s.stored ? `/desk/calendar/${esc(s.stored.code)}` : '/desk/calendar/new';
  const body = `${summary}
<p>${t('calendar.form.replan')}</p>
<form method="post" action="${action}" class="form calendar-form" novalidate>
${csrfField(ctx.csrf)}
<fieldset><legend>${t('calendar.form.section.what')}</legend>
${codeField}
${kindSelect()}
${input('group_key', 'text', ' autocapitalize="none" spellcheck="false"')}
${input('dose', 'text', ' inputmode="numeric"')}
${input('name_it', 'text', ' maxlength="160"')}
${input('region', 'text', ' autocapitalize="none"')}
</fieldset>
<fieldset><legend>${t('calendar.form.section.when')}</legend>
${input('offset_months', 'text', ' inputmode="numeric"')}
${input('offset_days', 'text', ' inputmode="numeric"')}
${input('window_days', 'text', ' inputmode="numeric"')}
${input('min_gap_days', 'text', ' inputmode="numeric"')}
${box('mandatory')}
</fieldset>
<fieldset><legend>${t('calendar.form.section.source')}</legend>
${input('source')}
${input('checked_on', 'date')}
${box('verified')}
${box('active')}
</fieldset>
<p class="actions"><button type="submit" class="primary">${t('calendar.form.save')}</button> <a href="/desk/calendar">${t('calendar.form.back')}</a></p>
</form>`;
  const title = s.stored ? t('calendar.form.editTitle', { code: s.stored.code }) : t('calendar.form.newTitle');
  return ctx.render(title, body, { status });
}

const notFound = (ctx: DeskContext) => ctx.render(ctx.t('calendar.title'), `<p>${ctx.t('calendar.notFound')}</p><p><a href="/desk/calendar">${ctx.t('calendar.form.back')}</a></p>`, { status: 404 });

/** A form posted: checked by the import's rules, then saved (303 to the list) or shown again with its errors (422). */
async function save(ctx: DeskContext, form: FormData, existing?: DeskCareItem): Promise<Response> {
  const items = await loadItems(ctx);
  const values = postedText(form);
  // the code is the row's name: the path says which row, whatever the form says
  if (existing) values.code = existing.code;
  const checked = checkCalendarItem(values);
  const problems: Problem[] = [...checked.problems];
  const code = (values.code ?? '').trim().toLowerCase();
  if (!existing && !problems.some((p) => p.field === 'code') && items.some((i) => i.code === code)) problems.unshift({ field: 'code', key: 'taken', values: { value: code } });
  if (problems.length || !checked.row) return formPage(ctx, { stored: existing, values, problems }, 422);
  const saved = await call<{ code: string; added: boolean; changed: string[] }>(ctx.db, 'desk_calendar_save', { p_staff_id: ctx.staff.id, p_item: checked.row, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'calendar', op: saved.added ? 'added' : 'saved', changed: saved.changed.length }, 'desk calendar row saved');
  const what = saved.added ? 'added' : saved.changed.length ? 'saved' : 'unchanged';
  return ctx.redirect(`/desk/calendar?${what}=${encodeURIComponent(saved.code)}`);
}

export const calendarPages: DeskPage[] = [
  {
    path: '/desk/calendar',
    nav: { label: 'calendar.menu', order: 80, href: '/desk/calendar' },
    get: (ctx) => listPage(ctx),
  },
  {
    path: '/desk/calendar/import',
    get: async (ctx) => ctx.redirect('/desk/calendar#calendar-import'),
    post: (ctx, form) => importCsv(ctx, form),
  },
  {
    path: '/desk/calendar/new',
    get: async (ctx) => formPage(ctx, { values: { dose: '1', region: 'lombardia', offset_months: '0', offset_days: '0', mandatory: 'no', verified: 'yes', active: 'yes', checked_on: romeDay(ctx.now) }, problems: [] }),
    post: (ctx, form) => save(ctx, form),
  },
  {
    path: PATH,
    async get(ctx) {
      const code = PATH.exec(ctx.url.pathname)?.[1];
      const stored = (await loadItems(ctx)).find((i) => i.code === code);
      return stored ? formPage(ctx, { stored, values: itemText(stored), problems: [] }) : notFound(ctx);
    },
    async post(ctx, form) {
      const code = PATH.exec(ctx.url.pathname)?.[1];
      const stored = (await loadItems(ctx)).find((i) => i.code === code);
      return stored ? save(ctx, form, stored) : notFound(ctx);
    },
  },
];
