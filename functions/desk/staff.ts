/**
 * Staff on the desk: tutors with their caseloads and open needs, the queue of families waiting for a tutor, assigning
 * (or re-assigning) a family, and deactivating a tutor after a confirmation. The same actions as the chat's /assign and
 * /deactivate: the same SQL, the same audit, and for an assignment the same notices, built by the chat's own code.
 */
import { randomUUID } from 'node:crypto';
import { ageLabel, familyRef, formatDate, languageName, staffRef } from '../../bot/core/format';
import { parseRef } from '../../bot/core/staff-ui';
import { call } from '../../bot/db/rpc';
import { assignNotices, type AssignParts } from '../../bot/features/staff/flow';
import { createTranslator, type Translator } from '../../bot/i18n';
import { romeDay } from '../../bot/time';
import { csrfField, esc } from './html';
import type { DeskContext, DeskPage } from './page';

/** A tutor's line on the staff page (desk_staff). */
interface TutorRow {
  id: string;
  ref: number;
  name: string;
  role: 'tutor' | 'coordinator';
  active: boolean;
  families: number;
  open_needs: number;
  urgent_needs: number;
}

interface Child {
  birth_date: string | null;
  due_date: string | null;
}

/** A family waiting for a tutor, as the desk shows it: no names, no numbers. */
interface QueueRow {
  ref: number;
  district: string | null;
  language: string | null;
  channel: string | null;
  waiting_since: string;
  children: Child[];
}

interface StaffPage {
  tutors: TutorRow[];
  queue_total: number;
  queue: QueueRow[];
}

/** One family for the assignment form (desk_family). */
interface DeskFamily {
  ref: number;
  district: string | null;
  status: string;
  language: string | null;
  channel: string | null;
  tutor: { ref: number; name: string } | null;
  children: Child[];
  open_needs: number;
  tutors: { ref: number; name: string; role: string; families: number }[];
}

interface Preview {
  ref: number;
  name: string;
  already: boolean;
  families: number;
  needs: number;
  family_refs: number[];
}

/** Families of the queue shown on one page. */
export const QUEUE_PAGE = 50;

/** The bot's own words, for the notices an assignment queues (the desk's strings are for the page). */
let botWords: Translator | undefined;
const botI18n = () => (botWords ??= createTranslator());

const familyIn = (ctx: DeskContext) => parseRef(/^\/desk\/staff\/(F-\d{1,9})$/i.exec(ctx.url.pathname)?.[1], 'F');
const tutorIn = (ctx: DeskContext) => parseRef(/^\/desk\/staff\/(T-\d{1,9})\/deactivate$/i.exec(ctx.url.pathname)?.[1], 'T');
const day = (ctx: DeskContext, iso: string) => esc(formatDate(ctx.lang, romeDay(new Date(iso))));
const channelName = (c: string | null) => (c === 'telegram' ? 'Telegram' : c === 'whatsapp' ? 'WhatsApp' : '–');
const languageOf = (ctx: DeskContext, l: string | null) => (l ? esc(languageName(ctx.lang, l)) : '–');

/** Children as ages (or an expected date): never their names. */
function childrenAges(ctx: DeskContext, children: Child[]): string {
  if (!children.length) return ctx.t('staff.noChildren');
  const today = romeDay(ctx.now);
  const bot = botI18n().t(ctx.lang);
  return children.map((c) => (c.birth_date ? esc(ageLabel(bot, c.birth_date, today)) : ctx.t('staff.expected', { date: formatDate(ctx.lang, c.due_date ?? '') }))).join(', ');
}

/** The tutors a family can be given to, as options (each with how many families she follows already). */
function tutorOptions(ctx: DeskContext, tutors: { ref: number; name: string; families: number }[], current?: number): string {
  return [`<option value="">${ctx.t('staff.assign.choose')}</option>`,
    ...tutors.map((s) => `<option value="${staffRef(s.ref)}"${s.ref === current ? ' selected' : ''}>${ctx.t('staff.assign.option', { tutor: staffRef(s.ref), name: s.name, count: s.families })}</option>`)].join('');
}

// ---------------------------------------------------------------------------------------------------------------
// the list
// ---------------------------------------------------------------------------------------------------------------

function doneNotice(ctx: DeskContext): string {
  const q = ctx.url.searchParams;
  const ref = (name: string, prefix: 'F' | 'T') => { const n = parseRef(q.get(name) ?? undefined, prefix); return n === undefined ? undefined : `${prefix}-${n}`; };
  const family = ref('assigned', 'F');
  const tutor = ref('to', 'T');
  let text = '';
  if (family && tutor) text = ctx.t('staff.done.assigned', { family, tutor });
  const unchanged = ref('unchanged', 'F');
  if (unchanged && tutor) text = ctx.t('staff.done.unchanged', { family: unchanged, tutor });
  const gone = ref('deactivated', 'T');
  if (gone) text = ctx.t('staff.done.deactivated', { tutor: gone });
  return text ? `<p class="done" role="status">${text}</p>` : '';
}

function tutorsTable(ctx: DeskContext, tutors: TutorRow[]): string {
  const { t } = ctx;
  if (!tutors.length) return `<p class="note">${t('staff.tutors.none')}</p>`;
  // a caseload is an operational figure a coordinator acts on: exact, never "<5"
  const rows = tutors.map((s) => {
    const deactivate = s.active && s.id !== ctx.staff.id
      ? `<a href="/desk/staff/${staffRef(s.ref)}/deactivate">${t('staff.tutors.deactivate')}<span class="vh"> ${esc(s.name)}</span></a>`
      : '';
    return `<tr${s.active ? '' : ' class="inactive"'}>
<th scope="row"><span class="code">${staffRef(s.ref)}</span> ${esc(s.name)}${s.role === 'coordinator' ? ` <span class="code">(${t('staff.tutors.coordinator')})</span>` : ''}</th>
<td>${t(s.active ? 'staff.tutors.active' : 'staff.tutors.inactive')}</td>
<td>${s.families}</td>
<td>${s.open_needs}</td>
<td>${s.urgent_needs}</td>
<td>${deactivate}</td>
</tr>`;
  }).join('\n');
  const cols = (['tutor', 'status', 'families', 'needs', 'urgent', 'actions'] as const).map((k) => `<th scope="col">${t(`staff.tutors.column.${k}`)}</th>`).join('');
  return `<div class="table-wrap" role="region" aria-labelledby="staff-tutors" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

function queueTable(ctx: DeskContext, data: StaffPage, page: number): string {
  const { t } = ctx;
  if (!data.queue_total) return `<p class="note">${t('staff.queue.none')}</p>`;
  const choices = data.tutors.filter((s) => s.active);
  // the queue is an operational list a coordinator acts on: every family, counted exactly
  const rows = data.queue.map((f) => {
    const ref = familyRef(f.ref);
    const id = `assign-${ref}`;
    return `<tr>
<th scope="row"><a href="/desk/staff/${ref}">${ref}</a></th>
<td>${f.district ? esc(f.district) : t('staff.noDistrict')}</td>
<td>${languageOf(ctx, f.language)}</td>
<td>${channelName(f.channel)}</td>
<td>${day(ctx, f.waiting_since)}</td>
<td>${childrenAges(ctx, f.children)}</td>
<td><form method="post" action="/desk/staff/${ref}" class="assign-inline">
${csrfField(ctx.csrf)}
<label for="${id}" class="vh">${t('staff.assign.tutorFor', { family: ref })}</label>
<select id="${id}" name="tutor" required>${tutorOptions(ctx, choices)}</select>
<button type="submit">${t('staff.assign.submit')}<span class="vh"> ${ref}</span></button>
</form></td>
</tr>`;
  }).join('\n');
  const cols = (['family', 'district', 'language', 'channel', 'since', 'children', 'assign'] as const).map((k) => `<th scope="col">${t(`staff.queue.column.${k}`)}</th>`).join('');
  const pages = Math.ceil(data.queue_total / QUEUE_PAGE);
  const nav = pages > 1
    ? `<p class="actions">${page > 1 ? `<a href="/desk/staff?page=${page - 1}#staff-queue">${t('staff.queue.previous')}</a>` : ''} <span>${t('staff.queue.page', { page, pages })}</span> ${page < pages ? `<a href="/desk/staff?page=${page + 1}#staff-queue">${t('staff.queue.next')}</a>` : ''}</p>`
    : '';
  return `<div class="table-wrap" role="region" aria-labelledby="staff-queue" tabindex="0"><table class="list"><thead><tr>${cols}</tr></thead><tbody>
${rows}
</tbody></table></div>${nav}`;
}

async function listPage(ctx: DeskContext): Promise<Response> {
  const { t } = ctx;
  const asked = Number(ctx.url.searchParams.get('page') ?? '1');
  const page = Number.isInteger(asked) && asked >= 1 && asked <= 100_000 ? asked : 1;
  const data = await call<StaffPage>(ctx.db, 'desk_staff', { p_staff_id: ctx.staff.id, p_limit: QUEUE_PAGE, p_offset: (page - 1) * QUEUE_PAGE, p_now: ctx.now.toISOString() });
  const body = `${doneNotice(ctx)}
<section aria-labelledby="staff-tutors">
<h2 id="staff-tutors">${t('staff.tutors.title')} <span class="count">(${t('staff.tutors.count', { count: data.tutors.filter((s) => s.active).length })})</span></h2>
<p>${t('staff.tutors.intro')}</p>
${tutorsTable(ctx, data.tutors)}
</section>
<section aria-labelledby="staff-queue">
<h2 id="staff-queue">${t('staff.queue.title')} <span class="count">(${t('staff.queue.count', { count: data.queue_total })})</span></h2>
<p>${t('staff.queue.intro')}</p>
${queueTable(ctx, data, page)}
</section>
<section aria-labelledby="staff-reassign">
<h2 id="staff-reassign">${t('staff.reassign.title')}</h2>
<form method="get" action="/desk/staff/family" class="form">
<div class="field">
<label for="reassign-family">${t('staff.reassign.label')}</label>
<p class="hint" id="reassign-hint">${t('staff.reassign.hint')}</p>
<input type="text" id="reassign-family" name="family" required pattern="[Ff]-?[0-9]{1,9}" autocapitalize="characters" spellcheck="false" aria-describedby="reassign-hint">
</div>
<p><button type="submit">${t('staff.reassign.submit')}</button></p>
</form>
</section>`;
  return ctx.render(t('staff.title'), body);
}

// ---------------------------------------------------------------------------------------------------------------
// assigning a family
// ---------------------------------------------------------------------------------------------------------------

const notFound = (ctx: DeskContext, text: string) => ctx.render(ctx.t('staff.title'), `<p>${text}</p><p><a href="/desk/staff">${ctx.t('staff.back')}</a></p>`, { status: 404 });

async function familyPage(ctx: DeskContext, ref: number, error?: string, status = 200): Promise<Response> {
  const { t } = ctx;
  const f = await call<DeskFamily | null>(ctx.db, 'desk_family', { p_staff_id: ctx.staff.id, p_family_ref: ref, p_now: ctx.now.toISOString() });
  if (!f) return notFound(ctx, t('staff.unknownFamily', { family: familyRef(ref) }));
  const family = familyRef(f.ref);
  const facts: [string, string][] = [
    [t('staff.family.tutor'), f.tutor ? `${staffRef(f.tutor.ref)} ${esc(f.tutor.name)}` : t('staff.family.waiting')],
    [t('staff.queue.column.district'), f.district ? esc(f.district) : t('staff.noDistrict')],
    [t('staff.queue.column.language'), languageOf(ctx, f.language)],
    [t('staff.queue.column.channel'), channelName(f.channel)],
    [t('staff.queue.column.children'), childrenAges(ctx, f.children)],
    [t('staff.family.needs'), String(f.open_needs)],
  ];
  const closed = f.status !== 'active' ? `<p class="warning">${t('staff.family.closed')}</p>` : '';
  const described = `assign-hint${error ? ' assign-error' : ''}`;
  const body = `${closed}<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl>
<form method="post" action="/desk/staff/${family}" class="form">
${csrfField(ctx.csrf)}
<div class="field">
<label for="assign-tutor">${t(f.tutor ? 'staff.assign.labelAgain' : 'staff.assign.label')}</label>
<p class="hint" id="assign-hint">${t('staff.assign.hint')}</p>
<select id="assign-tutor" name="tutor" required aria-describedby="${described}"${error ? ' aria-invalid="true"' : ''}>${tutorOptions(ctx, f.tutors)}</select>
${error ? `<p class="field-error" id="assign-error">${error}</p>` : ''}
</div>
<p class="actions"><button type="submit" class="primary">${t('staff.assign.submit')}</button> <a href="/desk/staff">${t('staff.back')}</a></p>
</form>`;
  return ctx.render(t('staff.family.title', { family }), body, { status });
}

interface AssignContext extends Omit<AssignParts, 'card' | 'tutor'> {
  family: AssignParts['card'] | null;
  tutor: AssignParts['tutor'] | null;
}

/** The chat's /assign F-12 T-3 from a form: the same assignment, audit and notices (built by the chat's code). */
async function assign(ctx: DeskContext, form: FormData): Promise<Response> {
  const { t } = ctx;
  const familyN = familyIn(ctx)!;
  const posted = form.get('tutor');
  const tutorN = parseRef(typeof posted === 'string' ? posted : undefined, 'T');
  if (tutorN === undefined) return familyPage(ctx, familyN, t('staff.assign.needTutor'), 422);
  const c = await call<AssignContext>(ctx.db, 'desk_assign_context', { p_staff_id: ctx.staff.id, p_family_ref: familyN, p_tutor_ref: tutorN });
  if (!c.family) return notFound(ctx, t('staff.unknownFamily', { family: familyRef(familyN) }));
  if (!c.tutor) return familyPage(ctx, familyN, t('staff.assign.unknownTutor', { tutor: staffRef(tutorN) }), 422);
  const family = familyRef(c.family.ref);
  const tutor = staffRef(c.tutor.ref);
  if (c.family.tutor?.id === c.tutor.id) return ctx.redirect(`/desk/staff?unchanged=${family}&to=${tutor}`);
  const parts: AssignParts = { card: c.family, tutor: c.tutor, previous: c.previous, open: c.open ?? [] };
  const notices = assignNotices(botI18n(), parts, `assigned:${c.family.id}:${c.tutor.id}:desk:${randomUUID()}`, ctx.now, romeDay(ctx.now));
  const done = await call<boolean>(ctx.db, 'desk_family_assign', { p_staff_id: ctx.staff.id, p_family_id: c.family.id, p_tutor_id: c.tutor.id, p_notices: notices, p_now: ctx.now.toISOString() });
  ctx.logger.info({ desk: 'staff', op: done ? 'assigned' : 'unchanged' }, 'desk family assigned');
  return ctx.redirect(`/desk/staff?${done ? 'assigned' : 'unchanged'}=${family}&to=${tutor}`);
}

// ---------------------------------------------------------------------------------------------------------------
// deactivating a tutor
// ---------------------------------------------------------------------------------------------------------------

const selfRefused = (ctx: DeskContext, status: number) =>
  ctx.render(ctx.t('staff.deactivate.title', { tutor: staffRef(ctx.staff.ref) }), `<p class="warning" role="alert">${ctx.t('staff.deactivate.notYourself')}</p><p><a href="/desk/staff">${ctx.t('staff.back')}</a></p>`, { status });

async function deactivatePage(ctx: DeskContext, ref: number, error?: string, status = 200): Promise<Response> {
  const { t } = ctx;
  if (ref === ctx.staff.ref) return selfRefused(ctx, status === 200 ? 200 : 403);
  const p = await call<Preview | null>(ctx.db, 'desk_staff_deactivate_preview', { p_staff_id: ctx.staff.id, p_staff_ref: ref });
  if (!p) return notFound(ctx, t('staff.unknownTutor', { tutor: staffRef(ref) }));
  const title = t('staff.deactivate.title', { tutor: staffRef(p.ref) });
  if (p.already) return ctx.render(title, `<p>${t('staff.deactivate.already', { tutor: staffRef(p.ref), name: p.name })}</p><p><a href="/desk/staff">${t('staff.back')}</a></p>`, { status: status === 200 ? 200 : 409 });
  const families = p.family_refs.length
    ? `<p>${t('staff.deactivate.families', { count: p.families })}</p><ul class="refs">${p.family_refs.map((r) => `<li><a href="/desk/staff/${familyRef(r)}">${familyRef(r)}</a></li>`).join('')}</ul>`
    : `<p>${t('staff.deactivate.noFamilies')}</p>`;
  const body = `<p>${t('staff.deactivate.intro', { tutor: staffRef(p.ref), name: p.name })}</p>
<section aria-labelledby="deactivate-preview"><h2 id="deactivate-preview">${t('staff.deactivate.previewTitle')}</h2>
${families}
<p>${t('staff.deactivate.needs', { count: p.needs })}</p>
<p>${t('staff.deactivate.access')}</p>
</section>
<form method="post" action="/desk/staff/${staffRef(p.ref)}/deactivate" class="form">
${csrfField(ctx.csrf)}
<div class="field check"><input type="checkbox" id="deactivate-confirm" name="confirm" value="yes" required${error ? ' aria-invalid="true" aria-describedby="deactivate-error"' : ''}><label for="deactivate-confirm">${t('staff.deactivate.confirm', { tutor: staffRef(p.ref), name: p.name })}</label>
${error ? `<p class="field-error" id="deactivate-error" role="alert">${error}</p>` : ''}</div>
<p class="actions"><button type="submit">${t('staff.deactivate.submit')}</button> <a href="/desk/staff">${t('staff.deactivate.keep')}</a></p>
</form>`;
  return ctx.render(title, body, { status });
}

async function deactivate(ctx: DeskContext, form: FormData): Promise<Response> {
  const ref = tutorIn(ctx)!;
  // the same rule as the chat's: a coordinator does not deactivate herself (the database refuses it too)
  if (ref === ctx.staff.ref) return selfRefused(ctx, 403);
  if (form.get('confirm') !== 'yes') return deactivatePage(ctx, ref, ctx.t('staff.deactivate.needConfirm'), 422);
  const out = await call<Preview | null>(ctx.db, 'desk_staff_deactivate', { p_staff_id: ctx.staff.id, p_staff_ref: ref, p_now: ctx.now.toISOString() });
  if (!out) return notFound(ctx, ctx.t('staff.unknownTutor', { tutor: staffRef(ref) }));
  if (out.already) return deactivatePage(ctx, ref, undefined, 409);
  ctx.logger.info({ desk: 'staff', op: 'deactivated', families: out.families, needs: out.needs }, 'desk staff deactivated');
  return ctx.redirect(`/desk/staff?deactivated=${staffRef(out.ref)}`);
}

export const staffPages: DeskPage[] = [
  {
    path: '/desk/staff',
    nav: { label: 'staff.menu', order: 30, href: '/desk/staff' },
    get: (ctx) => listPage(ctx),
  },
  {
    // the re-assign form's GET: to the family's own page, by its F-<ref> only
    path: '/desk/staff/family',
    async get(ctx) {
      const ref = parseRef(ctx.url.searchParams.get('family') ?? undefined, 'F');
      if (ref === undefined) return notFound(ctx, ctx.t('staff.reassign.bad'));
      return ctx.redirect(`/desk/staff/${familyRef(ref)}`);
    },
  },
  {
    path: /^\/desk\/staff\/F-\d{1,9}$/i,
    get: (ctx) => familyPage(ctx, familyIn(ctx)!),
    post: (ctx, form) => assign(ctx, form),
  },
  {
    path: /^\/desk\/staff\/T-\d{1,9}\/deactivate$/i,
    get: (ctx) => deactivatePage(ctx, tutorIn(ctx)!),
    post: (ctx, form) => deactivate(ctx, form),
  },
];
