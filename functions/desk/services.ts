/**
 * The local services directory on the desk: the list (inactive ones too) and a form per service with the CSV's
 * columns, checked by the import's own rules (`checkService`). What a mother is offered when she asks for help in an
 * area (services_near) changes with it. Every save is audited with the coordinator who made it.
 */
import { call, attempt } from '../../bot/db/rpc';
import { AREAS, checkService, parseServicesCsv, SERVICE_COLUMNS, type ServiceProblem, type ServiceRow, type ServiceText } from '../../bot/features/needs/knowledge-import';
import { csrfField, esc, fieldAids } from './html';
import type { DeskContext, DeskPage } from './page';
import { readUpload, UPLOAD_WORDS, uploadSection, type UploadOutcome } from './upload';

/** A service as desk_services() returns it. */
export interface DeskService extends ServiceRow {
  id: string;
  updated_at: string;
}

interface District {
  code: string;
  name: string;
}

type Column = (typeof SERVICE_COLUMNS)[number];
type Problem = Pick<ServiceProblem, 'field' | 'values'> & { key: ServiceProblem['key'] | 'taken' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PATH = /^\/desk\/services\/([0-9a-f-]{36})$/;
const loadServices = (ctx: DeskContext) => call<DeskService[]>(ctx.db, 'desk_services', { p_staff_id: ctx.staff.id });
const loadDistricts = (ctx: DeskContext) => call<District[]>(ctx.db, 'districts_list');
const areaName = (ctx: DeskContext, area: string) => ctx.t(`overview.area.${area}`);
const problemText = (ctx: DeskContext, p: Problem) => ctx.t(`services.problem.${p.key}`, p.values);

/** A stored service as the form's fields (and the CSV's cells) write it. */
export function serviceText(s: ServiceRow): ServiceText {
  return {
    name: s.name, category: s.category, district: s.district_code ?? '', address: s.address ?? '', hours: s.hours ?? '', phone: s.phone ?? '',
    languages: s.languages.join(', '), unverified: s.unverified ? 'yes' : 'no', source: s.source ?? '', active: s.active ? 'yes' : 'no',
  };
}

/** What the form posted, as the CSV's cells: a box not ticked is "no". */
function postedText(form: FormData): ServiceText {
  const text: ServiceText = {};
  for (const c of SERVICE_COLUMNS) {
    const v = form.get(c);
    text[c] = c === 'unverified' || c === 'active' ? (v === 'yes' ? 'yes' : 'no') : typeof v === 'string' ? v : '';
  }
  return text;
}

function doneNotice(ctx: DeskContext, services: DeskService[]): string {
  for (const what of ['added', 'saved'] as const) {
    const id = ctx.url.searchParams.get(what);
    const s = id && services.find((x) => x.id === id);
    if (s) return `<p class="done" role="status">${ctx.t(`services.done.${what}`, { name: s.name })}</p>`;
  }
  const count = (name: string) => (/^\d{1,6}$/.test(ctx.url.searchParams.get(name) ?? '') ? Number(ctx.url.searchParams.get(name)) : undefined);
  const [created, updated] = [count('created'), count('updated')];
  if (created !== undefined && updated !== undefined) return `<p class="done" role="status">${ctx.t('upload.done.services', { created, updated })}</p>`;
  return '';
}

async function listPage(ctx: DeskContext, upload?: UploadOutcome, status = 200): Promise<Response> {
  const { t } = ctx;
  const [services, districts] = await Promise.all([loadServices(ctx), loadDistricts(ctx)]);
  const district = (code: string | null) => (code ? esc(districts.find((d) => d.code === code)?.name ?? code) : t('services.wholeCity'));
  const rows = services.map((s) => `<tr>
<th scope="row">${esc(s.name)}</th>
<td>${areaName(ctx, s.category)}</td>
<td>${district(s.district_code)}</td>
<td>${s.phone ? esc(s.phone) : ''}</td>
<td>${esc(s.languages.join(', '))}</td>
<td>${t(s.unverified ? 'services.unverified' : 'services.verified')}</td>
<td>${t(s.active ? 'services.active' : 'services.inactive')}</td>
<td><a href="/desk/services/${esc(s.id)}">${t('services.edit')}<span class="vh"> ${esc(s.name)}</span></a></td>
</tr>`).join('\n');
  const cols = (['name', 'category', 'district', 'phone', 'languages', 'verified', 'active', 'edit'] as const).map((k) => `<th scope="col">${t(`services.column.${k}`)}</th>`).join('');
  const table = services.length
    ? `<div class="table-wrap" role="region" aria-labelledby="services-list" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows}
</tbody></table></div>`
    : `<p class="note">${t('services.empty')}</p>`;
  return ctx.render(t('services.title'), `${doneNotice(ctx, services)}
<p>${t('services.intro')}</p>
<p><a class="button" href="/desk/services/new">${t('services.new')}</a></p>
<section aria-labelledby="services-list">
<h2 id="services-list">${t('services.listTitle')} <span class="count">(${t('services.count', { count: services.length })})</span></h2>
${table}
</section>
${uploadSection(ctx, { id: 'services-import', action: '/desk/services/import', words: UPLOAD_WORDS, intro: { columns: SERVICE_COLUMNS.join(', ') }, extra: `<p>${t('upload.services')}</p>\n`, outcome: upload })}`, { status });
}

/** A CSV of services: every row checked, then all written in one audited call, or none and the bad lines listed. */
async function importCsv(ctx: DeskContext, form: FormData): Promise<Response> {
  const file = await readUpload(ctx, form, UPLOAD_WORDS);
  if (!('text' in file)) return listPage(ctx, { message: file.message }, file.status);
  const { rows, errors } = parseServicesCsv(file.text, (await loadDistricts(ctx)).map((d) => d.code));
  // the import's own words: its reasons name the CSV's columns
  if (errors.length) return listPage(ctx, { lines: errors.map((e) => ({ line: e.line, reason: esc(e.reason) })) }, 422);
  if (!rows.length) return listPage(ctx, { message: ctx.t('upload.noRows') }, 422);
  const result = await call<{ created: number; updated: number }>(ctx.db, 'desk_services_import', { p_staff_id: ctx.staff.id, p_rows: rows, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'services', op: 'imported', rows: rows.length }, 'desk services imported');
  return ctx.redirect(`/desk/services?created=${result.created}&updated=${result.updated}`);
}

interface FormState {
  stored?: DeskService;
  values: ServiceText;
  problems: Problem[];
  districts: District[];
}

function formPage(ctx: DeskContext, s: FormState, status = 200): Response {
  const { t } = ctx;
  const fieldId = (c: Column) => `f-${c}`;
  const aids = (c: Column) => {
    const hintKey = `services.field.${c}.hint`;
    return fieldAids(fieldId(c), t(hintKey) === hintKey ? '' : t(hintKey), s.problems.filter((p) => p.field === c).map((p) => problemText(ctx, p)));
  };
  const required = (c: Column) => c === 'name' || c === 'category';
  const label = (c: Column) => `${t(`services.field.${c}.label`)}${required(c) ? ` <span class="required">(${t('services.form.required')})</span>` : ''}`;
  const input = (c: Column, extra = '') => {
    const a = aids(c);
    return `<div class="field">
<label for="${fieldId(c)}">${label(c)}</label>
${a.hint}<input type="text" id="${fieldId(c)}" name="${c}" value="${esc(s.values[c] ?? '')}"${required(c) ? ' required' : ''}${a.attrs}${extra}>
${a.error}</div>`;
  };
  const select = (c: Column, options: { value: string; label: string }[]) => {
    const a = aids(c);
    const current = (s.values[c] ?? '').trim().toLowerCase();
    // a value not in the list (a forged one) stays shown, with its error
    const all = current && !options.some((o) => o.value === current) ? [...options, { value: current, label: esc(current) }] : options;
    return `<div class="field">
<label for="${fieldId(c)}">${label(c)}</label>
${a.hint}<select id="${fieldId(c)}" name="${c}"${required(c) ? ' required' : ''}${a.attrs}>
${all.map((o) => `<option value="${esc(o.value)}"${o.value === current ? ' selected' : ''}>${o.label}</option>`).join('\n')}
</select>
${a.error}</div>`;
  };
  const box = (c: 'unverified' | 'active') => {
    const a = aids(c);
    const on = ['yes', 'true', '1', 'si', 'sì'].includes((s.values[c] ?? '').trim().toLowerCase());
    return `<div class="field check"><input type="checkbox" id="${fieldId(c)}" name="${c}" value="yes"${on ? ' checked' : ''}${a.attrs}><label for="${fieldId(c)}">${t(`services.field.${c}.label`)}</label>${a.error}</div>`;
  };
  const summary = s.problems.length
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1">
<h2 id="error-summary-title">${t('services.form.summary')}</h2>
<ul>${s.problems.map((p) => `<li><a href="#${fieldId(p.field)}">${t(`services.field.${p.field}.label`)}</a>: ${problemText(ctx, p)}</li>`).join('')}</ul>
</div>`
    : '';
  const action = s.stored ? `/desk/services/${esc(s.stored.id)}` : '/desk/services/new';
  const body = `${summary}
<form method="post" action="${action}" class="form service-form" novalidate>
${csrfField(ctx.csrf)}
${input('name', ' maxlength="160"')}
${select('category', [{ value: '', label: t('services.form.choose') }, ...AREAS.map((a) => ({ value: a, label: `${areaName(ctx, a)} (${a})` }))])}
${select('district', [{ value: '', label: t('services.wholeCity') }, ...s.districts.map((d) => ({ value: d.code, label: `${esc(d.name)} (${esc(d.code)})` }))])}
${input('address')}
${input('hours')}
${input('phone', ' inputmode="tel"')}
${input('languages', ' autocapitalize="none" spellcheck="false"')}
${input('source')}
${box('unverified')}
${box('active')}
<p class="actions"><button type="submit" class="primary">${t('services.form.save')}</button> <a href="/desk/services">${t('services.form.back')}</a></p>
</form>`;
  const title = s.stored ? t('services.form.editTitle', { name: s.stored.name }) : t('services.form.newTitle');
  return ctx.render(title, body, { status });
}

const notFound = (ctx: DeskContext) => ctx.render(ctx.t('services.title'), `<p>${ctx.t('services.notFound')}</p><p><a href="/desk/services">${ctx.t('services.form.back')}</a></p>`, { status: 404 });

async function stored(ctx: DeskContext): Promise<DeskService | undefined> {
  const id = PATH.exec(ctx.url.pathname)?.[1] ?? '';
  if (!UUID.test(id)) return undefined;
  return (await loadServices(ctx)).find((s) => s.id === id);
}

/** A form posted: checked by the import's rules, then saved (303 to the list) or shown again with its errors (422). */
async function save(ctx: DeskContext, form: FormData, existing?: DeskService): Promise<Response> {
  const districts = await loadDistricts(ctx);
  const values = postedText(form);
  const checked = checkService(values, districts.map((d) => d.code));
  const again = (problems: Problem[]) => formPage(ctx, { stored: existing, values, problems, districts }, 422);
  if (checked.problems.length || !checked.row) return again(checked.problems);
  const saved = await attempt<{ id: string; added: boolean }>(ctx.db, 'desk_service_save', { p_staff_id: ctx.staff.id, p_id: existing?.id ?? null, p_row: checked.row, p_now: ctx.now.toISOString() });
  if ('error' in saved) {
    // the CSV finds a service by name and district: two of them with both the same would be one
    if (saved.error.code === '23505') return again([{ field: 'name', key: 'taken' }]);
    throw saved.error;
  }
  ctx.logger.info({ desk: 'services', op: saved.data.added ? 'added' : 'saved' }, 'desk service saved');
  return ctx.redirect(`/desk/services?${saved.data.added ? 'added' : 'saved'}=${saved.data.id}`);
}

export const servicePages: DeskPage[] = [
  {
    path: '/desk/services',
    nav: { label: 'services.menu', order: 70, href: '/desk/services' },
    get: (ctx) => listPage(ctx),
  },
  {
    path: '/desk/services/import',
    get: async (ctx) => ctx.redirect('/desk/services#services-import'),
    post: (ctx, form) => importCsv(ctx, form),
  },
  {
    path: '/desk/services/new',
    async get(ctx) {
      return formPage(ctx, { values: { unverified: 'no', active: 'yes', languages: 'it' }, problems: [], districts: await loadDistricts(ctx) });
    },
    post: (ctx, form) => save(ctx, form),
  },
  {
    path: PATH,
    async get(ctx) {
      const s = await stored(ctx);
      if (!s) return notFound(ctx);
      return formPage(ctx, { stored: s, values: serviceText(s), problems: [], districts: await loadDistricts(ctx) });
    },
    async post(ctx, form) {
      const s = await stored(ctx);
      if (!s) return notFound(ctx);
      return save(ctx, form, s);
    },
  },
];
