/**
 * Broadcasts on the desk: the list with each one's funnel, a broadcast's report (the chat's and the API's own
 * figures, its texts, its failures) with a Cancel button while it can be cancelled, and a new broadcast with the
 * chat wizard's filters, a preview per language (the API's preview: one function) and sending now or at a time.
 * Every write goes through the chat's and the API's SQL functions, audited with the coordinator who made it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sendTime, DEFAULT_RULES } from '../../bot/care/reminders';
import { familyRef, languageName, staffRef } from '../../bot/core/format';
import { call } from '../../bot/db/rpc';
import {
  AGE_BANDS, audienceSchema, broadcastRef, CHANNELS, MAX_TEXT, parseBroadcastRef, previewBroadcast,
  type Audience, type BroadcastCounts, type BroadcastFailure, type BroadcastReport, type Texts,
} from '../../bot/features/broadcasts/service';
import { createTranslator, isLanguage, LANGUAGES, textDirection, type Language, type Translator } from '../../bot/i18n';
import { parseInstant, PROGRAMME_TZ } from '../../bot/time';
import { csrfField, esc, fieldAids } from './html';
import type { DeskContext, DeskPage } from './page';

/** A broadcast as broadcasts_list gives it. */
interface ListedBroadcast {
  ref: number;
  status: BroadcastReport['status'];
  source: BroadcastReport['source'];
  send_at: string;
  created_at: string;
  text_it: string;
  audience: Audience;
  counts: BroadcastCounts;
}

interface District {
  code: string;
  name: string;
}
interface Tutor {
  ref: number;
  name: string;
}

/** The latest broadcasts the list shows. */
export const LIST_LIMIT = 100;
/** The failures a report lists (more are said to exist, with the count). */
export const FAILURES_LIMIT = 500;
/** The funnel's figures, in the order the list and the report show them. */
const FUNNEL = ['queued', 'sent', 'delivered', 'read', 'failed', 'held', 'skipped', 'fallback'] as const;
type Figure = (typeof FUNNEL)[number];
const figure = (c: BroadcastCounts, f: Figure) => (f === 'skipped' ? c.skipped.paused + c.skipped.unreachable : c[f]);

/** The bot's own words (the texts the families read, failure reasons, age bands): the chat and the desk say the same. */
let botWords: Translator | undefined;
const bot = () => (botWords ??= createTranslator());

const dateTime = (ctx: DeskContext, iso: string) =>
  new Intl.DateTimeFormat(ctx.lang === 'en' ? 'en-GB' : 'it-IT', { timeZone: PROGRAMME_TZ, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
const langName = (ctx: DeskContext, l: string) => esc(languageName(ctx.lang, l));
const channelName = (c: string) => (c === 'telegram' ? 'Telegram' : c === 'whatsapp' ? 'WhatsApp' : esc(c));
const loadDistricts = (ctx: DeskContext) => call<District[]>(ctx.db, 'districts_list', {});
const loadTutors = (ctx: DeskContext) => call<Tutor[]>(ctx.db, 'broadcast_tutors', { p_staff_id: ctx.staff.id });

/** The audience in words, one filter a line (all of them must hold): the wizard's filters, the desk's words. */
function audienceWords(ctx: DeskContext, a: Audience, districts: District[]): string {
  const { t } = ctx;
  const b = bot().t(ctx.lang);
  const parts: string[] = [];
  if (a.languages) parts.push(t('broadcasts.audience.languages', { list: a.languages.map((l) => languageName(ctx.lang, l)).join(', ') }));
  if (a.districts) parts.push(t('broadcasts.audience.districts', { list: a.districts.map((d) => districts.find((x) => x.code === d)?.name ?? d).join(', ') }));
  if (a.ages) parts.push(t('broadcasts.audience.ages', { list: a.ages.map((x) => b(`broadcast.age.${x}`)).join(', ') }));
  if (a.tutors) parts.push(t('broadcasts.audience.tutors', { list: a.tutors.map(staffRef).join(', ') }));
  if (a.channels) parts.push(t('broadcasts.audience.channels', { list: a.channels.map((c) => (c === 'telegram' ? 'Telegram' : 'WhatsApp')).join(', ') }));
  if (a.open_need) parts.push(t('broadcasts.audience.openNeed'));
  return parts.length ? parts.join('<br>') : t('broadcasts.audience.all');
}

// ---------------------------------------------------------------------------------------------------------------
// the list
// ---------------------------------------------------------------------------------------------------------------

async function listPage(ctx: DeskContext): Promise<Response> {
  const { t } = ctx;
  const [list, districts] = await Promise.all([
    call<ListedBroadcast[]>(ctx.db, 'broadcasts_list', { p_staff_id: ctx.staff.id, p_limit: LIST_LIMIT }),
    loadDistricts(ctx),
  ]);
  const head = ['ref', 'created', 'when', 'status', 'audience', 'recipients', ...FUNNEL].map((k) => `<th scope="col">${t(`broadcasts.column.${k}`)}</th>`).join('');
  // a coordinator's own broadcasts, figure by figure as the chat's /broadcast B-n and the API report them (exact:
  // the report she acts on, beside the failures list that names each family by reference)
  const rows = list.map((b) => `<tr data-ref="${b.ref}">
<th scope="row"><a href="/desk/broadcasts/${broadcastRef(b.ref)}">${broadcastRef(b.ref)}</a><br><span class="code">${esc(b.text_it)}</span></th>
<td>${esc(dateTime(ctx, b.created_at))}</td>
<td>${esc(dateTime(ctx, b.send_at))}</td>
<td>${t(`broadcasts.status.${b.status}`)}</td>
<td>${audienceWords(ctx, b.audience, districts)}</td>
<td class="num" data-figure="recipients">${b.counts.recipients}</td>
${FUNNEL.map((f) => `<td class="num" data-figure="${f}">${figure(b.counts, f)}</td>`).join('\n')}
</tr>`).join('\n');
  const table = list.length
    ? `<div class="table-wrap" role="region" aria-labelledby="broadcasts-list" tabindex="0"><table class="list broadcasts"><caption id="broadcasts-list">${t('broadcasts.listCaption', { count: list.length })}</caption>
<thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
<p class="note">${t('broadcasts.funnelNote')}</p>`
    : `<p>${t('broadcasts.none')}</p>`;
  const body = `<p>${t('broadcasts.intro')}</p>
<p><a class="button" href="/desk/broadcasts/new">${t('broadcasts.new')}</a></p>
${table}`;
  return ctx.render(t('broadcasts.title'), body);
}

// ---------------------------------------------------------------------------------------------------------------
// a broadcast's report, failures and cancel
// ---------------------------------------------------------------------------------------------------------------

const refIn = (ctx: DeskContext) => parseBroadcastRef(/^\/desk\/broadcasts\/(B-\d{1,9})(?:\/cancel)?\/?$/i.exec(ctx.url.pathname)?.[1]);
const notFound = (ctx: DeskContext) =>
  ctx.render(ctx.t('broadcasts.title'), `<p>${ctx.t('broadcasts.notFound')}</p><p><a href="/desk/broadcasts">${ctx.t('broadcasts.back')}</a></p>`, { status: 404 });
const cancellable = (status: BroadcastReport['status']) => status === 'scheduled' || status === 'sending';

function doneNotice(ctx: DeskContext, ref: number): string {
  const q = ctx.url.searchParams;
  const n = /^\d{1,9}$/.test(q.get('messages') ?? '') ? Number(q.get('messages')) : 0;
  const what = q.get('done');
  const text = what === 'created' ? ctx.t('broadcasts.done.created', { ref: broadcastRef(ref) })
    : what === 'cancelled' ? ctx.t('broadcasts.done.cancelled', { ref: broadcastRef(ref) })
    : what === 'stopped' ? ctx.t('broadcasts.done.stopped', { ref: broadcastRef(ref), count: n })
    : '';
  return text ? `<p class="done" role="status">${text}</p>` : '';
}

async function reportPage(ctx: DeskContext, opts: { cancelError?: string; status?: number } = {}): Promise<Response> {
  const { t } = ctx;
  const ref = refIn(ctx);
  if (ref === undefined) return notFound(ctx);
  const report = await call<BroadcastReport | null>(ctx.db, 'broadcast_report', { p_staff_id: ctx.staff.id, p_ref: ref, p_now: ctx.now.toISOString() });
  if (!report) return notFound(ctx);
  const [failures, districts] = await Promise.all([
    call<BroadcastFailure[]>(ctx.db, 'broadcast_failures', { p_staff_id: ctx.staff.id, p_ref: ref, p_limit: FAILURES_LIMIT }),
    loadDistricts(ctx),
  ]);
  const b = bot().t(ctx.lang);
  const c = report.counts;
  const facts = `<dl class="facts">
<div><dt>${t('broadcasts.column.status')}</dt><dd data-fact="status">${t(`broadcasts.status.${report.status}`)}</dd></div>
<div><dt>${t('broadcasts.column.created')}</dt><dd>${esc(dateTime(ctx, report.created_at))} (${t(`broadcasts.source.${report.source}`)})</dd></div>
<div><dt>${t('broadcasts.column.when')}</dt><dd>${esc(dateTime(ctx, report.send_at))}</dd></div>
${report.finished_at ? `<div><dt>${t('broadcasts.finished')}</dt><dd>${esc(dateTime(ctx, report.finished_at))}</dd></div>` : ''}
<div><dt>${t('broadcasts.column.audience')}</dt><dd>${audienceWords(ctx, report.audience, districts)}</dd></div>
</dl>`;
  // the figures of the chat's /broadcast B-n and of GET /api/broadcasts/B-n, exact (see the list)
  const figures: [string, number][] = [
    ['recipients', c.recipients], ['queued', c.queued], ['waiting', c.waiting], ['sent', c.sent], ['delivered', c.delivered], ['read', c.read],
    ['whatsapp_sent', c.whatsapp_sent], ['failed', c.failed], ['held', c.held], ['cancelled', c.cancelled], ['paused', c.skipped.paused],
    ['unreachable', c.skipped.unreachable], ['fallback', c.fallback],
  ];
  const figureTable = `<section aria-labelledby="h-figures"><h2 id="h-figures">${t('broadcasts.report.figures')}</h2>
<div class="table-wrap"><table class="list"><tbody>
${figures.map(([k, n]) => `<tr><th scope="row">${t(`broadcasts.figure.${k}`)}</th><td class="num" data-figure="${k}">${n}</td></tr>`).join('\n')}
</tbody></table></div>
<p class="note">${t('broadcasts.funnelNote')}</p>
${Object.keys(c.reasons).length ? `<h3>${t('broadcasts.report.reasons')}</h3><ul>${Object.entries(c.reasons).map(([r, n]) => `<li data-reason="${esc(r)}">${esc(b(`broadcast.reason.${r}`, { defaultValue: r }))}: ${n}</li>`).join('')}</ul>` : ''}
</section>`;
  const texts = Object.entries(report.texts ?? { it: report.text_it }).sort(([a], [z]) => (a === 'it' ? -1 : z === 'it' ? 1 : a.localeCompare(z)));
  const textsSection = `<section aria-labelledby="h-texts"><h2 id="h-texts">${t('broadcasts.report.texts')}</h2>
${texts.map(([l, text]) => `<h3>${langName(ctx, l)}</h3><p class="message" lang="${esc(l)}" dir="${textDirection(l)}" data-text="${esc(l)}">${esc(text)}</p>`).join('\n')}
<p class="note">${t('broadcasts.report.fallbackNote')}</p>
</section>`;
  // an operational list the coordinator acts on: exact, every family by reference (no names, numbers or texts)
  const failureRows = failures.map((f) => `<tr><th scope="row">${familyRef(f.family_ref)}</th><td>${channelName(f.channel)}</td><td>${langName(ctx, f.language)}</td><td data-kind="${esc(f.kind)}">${esc(b(`broadcast.reason.${f.kind}`, { defaultValue: f.kind }))}${f.reason && f.reason !== f.kind ? ` <span class="code">(${esc(f.reason)})</span>` : ''}</td></tr>`).join('\n');
  const unreached = c.failed + c.held + c.skipped.paused + c.skipped.unreachable;
  const failuresSection = `<section aria-labelledby="h-failures"><h2 id="h-failures">${t('broadcasts.report.failures')}</h2>
${failures.length ? `<div class="table-wrap" role="region" aria-labelledby="h-failures" tabindex="0"><table class="list failures"><thead><tr>${['family', 'channel', 'language', 'reason'].map((k) => `<th scope="col">${t(`broadcasts.failure.${k}`)}</th>`).join('')}</tr></thead><tbody>
${failureRows}
</tbody></table></div>${unreached > failures.length ? `<p class="note">${t('broadcasts.report.failuresCut', { shown: failures.length, count: unreached })}</p>` : ''}` : `<p>${t('broadcasts.report.noFailures')}</p>`}
</section>`;
  const cancel = cancellable(report.status)
    ? `<section aria-labelledby="h-cancel" class="cancel-broadcast"><h2 id="h-cancel">${t('broadcasts.cancel.title')}</h2>
<form method="post" action="/desk/broadcasts/${broadcastRef(ref)}/cancel" class="form">
${csrfField(ctx.csrf)}
<p id="cancel-text">${t(report.status === 'scheduled' ? 'broadcasts.cancel.scheduled' : 'broadcasts.cancel.sending')}</p>
<div class="field check"><input type="checkbox" id="cancel-confirm" name="confirm" value="yes" required aria-describedby="cancel-text${opts.cancelError ? ' cancel-error' : ''}"${opts.cancelError ? ' aria-invalid="true"' : ''}><label for="cancel-confirm">${t('broadcasts.cancel.confirm', { ref: broadcastRef(ref) })}</label>
${opts.cancelError ? `<p class="field-error" id="cancel-error" role="alert">${opts.cancelError}</p>` : ''}</div>
<p><button type="submit">${t('broadcasts.cancel.submit')}</button></p>
</form></section>`
    : opts.cancelError ? `<p class="warning" role="alert">${opts.cancelError}</p>` : '';
  const body = `${doneNotice(ctx, ref)}${facts}
${figureTable}
${textsSection}
${failuresSection}
${cancel}
<p><a href="/desk/broadcasts">${t('broadcasts.back')}</a></p>`;
  return ctx.render(t('broadcasts.report.title', { ref: broadcastRef(ref) }), body, { status: opts.status ?? 200 });
}

/** The chat's /cancelbroadcast on the desk: the same function (a scheduled one cancelled, one sending stopped), once confirmed. */
async function cancelBroadcast(ctx: DeskContext, form: FormData): Promise<Response> {
  const { t } = ctx;
  const ref = refIn(ctx);
  if (ref === undefined) return notFound(ctx);
  if (form.get('confirm') !== 'yes') return reportPage(ctx, { cancelError: t('broadcasts.cancel.needConfirm'), status: 422 });
  const out = await call<{ was: BroadcastReport['status']; status: string; messages_cancelled: number } | null>(ctx.db, 'broadcast_cancel', { p_staff_id: ctx.staff.id, p_ref: ref, p_now: ctx.now.toISOString() });
  if (!out) return notFound(ctx);
  if (!cancellable(out.was)) return reportPage(ctx, { cancelError: t('broadcasts.cancel.cannot', { ref: broadcastRef(ref), status: t(`broadcasts.status.${out.was}`) }), status: 409 });
  ctx.logger.info({ desk: 'broadcasts', op: 'cancelled', broadcast: ref, messages: out.messages_cancelled }, 'desk broadcast cancelled');
  return ctx.redirect(`/desk/broadcasts/${broadcastRef(ref)}?done=${out.was === 'scheduled' ? 'cancelled' : 'stopped'}&messages=${out.messages_cancelled}`);
}

// ---------------------------------------------------------------------------------------------------------------
// a new broadcast: the form, the preview, sending
// ---------------------------------------------------------------------------------------------------------------

type When = 'now' | 'at';
interface Draft {
  audience: Audience;
  texts: Texts;
  when: When;
  /** the time she typed, Rome's wall clock (YYYY-MM-DDTHH:MM) */
  at: string;
  /** drawn with the form, sent with every post of it: the broadcast's source key */
  key: string;
}
type Field = 'audience' | 'text_it' | `text_${Language}` | 'at';
interface Problem {
  field: Field;
  message: string;
}

const KEY = /^[\w.:-]{8,100}$/;
const strings = (form: FormData, name: string) => form.getAll(name).filter((v): v is string => typeof v === 'string');
const one = (form: FormData, name: string) => { const v = form.get(name); return typeof v === 'string' ? v : ''; };

/** What the form posted, as a draft: the wizard's filters (no filter = nobody left out), the texts given, when. */
function postedDraft(form: FormData): Draft {
  const audience: Record<string, unknown> = {};
  for (const dim of ['languages', 'districts', 'ages', 'channels'] as const) {
    const v = strings(form, dim);
    if (v.length) audience[dim] = [...new Set(v)];
  }
  const tutors = strings(form, 'tutors').filter((v) => /^\d{1,9}$/.test(v)).map(Number);
  if (tutors.length) audience.tutors = [...new Set(tutors)];
  if (form.get('open_need') === 'yes') audience.open_need = true;
  const texts: Texts = {};
  for (const l of LANGUAGES) {
    const v = one(form, `text_${l}`).replace(/\r\n/g, '\n').trim();
    if (v) texts[l] = v;
  }
  const key = one(form, 'key');
  return { audience: audience as Audience, texts, when: one(form, 'when') === 'at' ? 'at' : 'now', at: one(form, 'at'), key: KEY.test(key) ? key : randomUUID() };
}

/** The fingerprint of what a preview showed: sending needs the same one, or she sees the preview again. */
const fingerprint = (d: Draft) => createHash('sha256').update(JSON.stringify([d.audience, d.texts, d.when, d.when === 'at' ? d.at : ''])).digest('base64url');

/** The moment she chose, and the moment it leaves (the notices' window: night moves to 09:00, as in the chat). */
function timing(ctx: DeskContext, d: Draft): { chosen: Date; leaves: Date } | Problem {
  if (d.when === 'now') return { chosen: ctx.now, leaves: sendTime(ctx.now) };
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(d.at) ? parseInstant(d.at) : null;
  if (!at) return { field: 'at', message: ctx.t('broadcasts.form.error.at') };
  if (at.getTime() < ctx.now.getTime() - 60_000) return { field: 'at', message: ctx.t('broadcasts.form.error.past') };
  if (at.getTime() > ctx.now.getTime() + 90 * 86_400_000) return { field: 'at', message: ctx.t('broadcasts.form.error.far') };
  const chosen = at.getTime() < ctx.now.getTime() ? ctx.now : at;
  return { chosen, leaves: sendTime(chosen) };
}

function check(ctx: DeskContext, d: Draft): Problem[] {
  const { t } = ctx;
  const problems: Problem[] = [];
  if (!audienceSchema.safeParse(d.audience).success) problems.push({ field: 'audience', message: t('broadcasts.form.error.audience') });
  if (!d.texts.it) problems.push({ field: 'text_it', message: t('broadcasts.form.error.italian') });
  for (const l of LANGUAGES) {
    const text = d.texts[l];
    if (text && text.length > MAX_TEXT) problems.push({ field: `text_${l}`, message: t('broadcasts.form.error.tooLong', { max: MAX_TEXT, length: text.length }) });
  }
  const when = timing(ctx, d);
  if ('field' in when) problems.push(when);
  return problems;
}

interface FormOptions {
  districts: District[];
  tutors: Tutor[];
  /** the languages the audience reaches now, most families first */
  reached: Language[];
  problems: Problem[];
  /** the preview shown above the send button */
  preview?: string;
  /** the fingerprint of what the preview shows */
  previewed?: string;
}

function newForm(ctx: DeskContext, d: Draft, o: FormOptions): string {
  const { t } = ctx;
  const b = bot().t(ctx.lang);
  const errorOf = (f: Field) => o.problems.filter((p) => p.field === f).map((p) => p.message).join(' ');
  const aids = (f: Field, hint?: string) => { const error = errorOf(f); return fieldAids(f, hint ?? '', error ? [error] : []); };
  const chosen = (dim: keyof Audience) => ((d.audience[dim] as (string | number)[] | undefined) ?? []).map(String);
  const checks = (dim: 'languages' | 'districts' | 'ages' | 'tutors' | 'channels', options: { value: string; label: string }[]) => {
    const ticked = chosen(dim);
    return `<fieldset class="field" id="f-${dim}"><legend>${t(`broadcasts.form.filter.${dim}`)}</legend>
<p class="hint">${t('broadcasts.form.anyHint')}</p><div class="checks">
${options.map((opt) => { const id = `f-${dim}-${opt.value.replace(/[^a-z0-9_-]/gi, '_')}`; return `<div class="check"><input type="checkbox" id="${id}" name="${dim}" value="${esc(opt.value)}"${ticked.includes(opt.value) ? ' checked' : ''}><label for="${id}">${opt.label}</label></div>`; }).join('\n')}
</div></fieldset>`;
  };
  const textArea = (l: Language) => {
    const f: Field = `text_${l}`;
    const hint = l === 'it' ? t('broadcasts.form.italianHint', { max: MAX_TEXT }) : t('broadcasts.form.ownHint', { language: languageName(ctx.lang, l) });
    const a = aids(f, hint);
    return `<div class="field">
<label for="${f}">${l === 'it' ? `${t('broadcasts.form.italian')} <span class="required">(${t('broadcasts.form.required')})</span>` : langName(ctx, l)}</label>
${a.hint}<textarea id="${f}" name="${f}" rows="${l === 'it' ? 6 : 4}" maxlength="${MAX_TEXT}" lang="${l}" dir="${textDirection(l)}"${l === 'it' ? ' required' : ''}${a.attrs}>${esc(d.texts[l] ?? '')}</textarea>
${a.error}</div>`;
  };
  // a text for each language the audience reaches, and for any language she already wrote one for
  const others = LANGUAGES.filter((l) => l !== 'it' && (o.reached.includes(l) || d.texts[l]));
  const audienceError = aids('audience');
  const at = aids('at', t('broadcasts.form.atHint', { from: `${String(DEFAULT_RULES.fromHour).padStart(2, '0')}:00`, to: `${DEFAULT_RULES.toHour}:00` }));
  const summary = o.problems.length
    ? `<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1"><h2 id="error-summary-title">${t('broadcasts.form.summary')}</h2>
<ul>${o.problems.map((p) => `<li><a href="#${p.field === 'audience' ? 'f-languages' : p.field}">${p.message}</a></li>`).join('')}</ul></div>`
    : '';
  return `${summary}
<form method="post" action="/desk/broadcasts/new" class="form broadcast-form" novalidate>
${csrfField(ctx.csrf)}
<input type="hidden" name="key" value="${esc(d.key)}">
${o.previewed ? `<input type="hidden" name="previewed" value="${esc(o.previewed)}">` : ''}
<fieldset><legend>${t('broadcasts.form.section.audience')}</legend>
<p class="hint">${t('broadcasts.form.audienceHint')}</p>
${checks('languages', LANGUAGES.map((l) => ({ value: l, label: langName(ctx, l) })))}
${checks('districts', o.districts.map((x) => ({ value: x.code, label: esc(x.name) })))}
${checks('ages', AGE_BANDS.map((x) => ({ value: x, label: esc(b(`broadcast.age.${x}`)) })))}
${checks('tutors', o.tutors.map((x) => ({ value: String(x.ref), label: `${staffRef(x.ref)} ${esc(x.name)}` })))}
${checks('channels', CHANNELS.map((x) => ({ value: x, label: channelName(x) })))}
<div class="field check"><input type="checkbox" id="f-open_need" name="open_need" value="yes"${d.audience.open_need ? ' checked' : ''}><label for="f-open_need">${t('broadcasts.form.filter.openNeed')}</label></div>
${audienceError.error}
</fieldset>
<fieldset><legend>${t('broadcasts.form.section.texts')}</legend>
${textArea('it')}
${others.length ? `<p class="hint">${t('broadcasts.form.fallbackRule')}</p>\n${others.map(textArea).join('\n')}` : ''}
</fieldset>
<fieldset><legend>${t('broadcasts.form.section.when')}</legend>
<div class="field check"><input type="radio" id="f-when-now" name="when" value="now"${d.when === 'now' ? ' checked' : ''}><label for="f-when-now">${t('broadcasts.form.now')}</label></div>
<div class="field check"><input type="radio" id="f-when-at" name="when" value="at"${d.when === 'at' ? ' checked' : ''}><label for="f-when-at">${t('broadcasts.form.atTime')}</label></div>
<div class="field">
<label for="at">${t('broadcasts.form.at')}</label>
${at.hint}<input type="datetime-local" id="at" name="at" value="${esc(d.at)}"${at.attrs}>
${at.error}</div>
</fieldset>
${o.preview ?? ''}
<p class="actions"><button type="submit" name="preview" value="1"${o.preview ? '' : ' class="primary"'}>${t('broadcasts.form.preview')}</button> <a href="/desk/broadcasts">${t('broadcasts.back')}</a></p>
</form>`;
}

/** The preview: how many it reaches, per language the exact message (the fallback rule applied), when it leaves, and Send. */
function previewSection(ctx: DeskContext, d: Draft, leaves: { chosen: Date; leaves: Date }, p: Awaited<ReturnType<typeof previewBroadcast>>, changed: boolean): string {
  const { t } = ctx;
  const langs = (Object.keys(p.languages) as Language[]).sort((a, z) => (p.languages[z] ?? 0) - (p.languages[a] ?? 0) || a.localeCompare(z));
  // exact counts: the people she is about to write to, as the chat wizard and the API's preview give them
  const perLanguage = langs.map((l) => {
    const read = p.reads[l]!;
    const own = read.text_language === l;
    return `<section class="preview-language" data-language="${l}" aria-labelledby="pv-${l}">
<h3 id="pv-${l}">${t('broadcasts.preview.for', { language: languageName(ctx.lang, l), count: p.languages[l] ?? 0 })}</h3>
<p class="note">${t(own ? 'broadcasts.preview.own' : 'broadcasts.preview.italian')}</p>
<p class="message" lang="${l}" dir="${textDirection(l)}" data-reads="${l}">${esc(read.text)}</p>
</section>`;
  }).join('\n');
  const skipped = p.skipped.paused + p.skipped.unreachable;
  const moved = leaves.leaves.getTime() !== leaves.chosen.getTime();
  const when = leaves.leaves.getTime() <= ctx.now.getTime() ? t('broadcasts.preview.leavesNow') : t('broadcasts.preview.leavesAt', { when: dateTime(ctx, leaves.leaves.toISOString()) });
  const send = p.recipients > 0
    ? `<p class="actions"><button type="submit" name="send" value="1" class="primary">${leaves.leaves.getTime() <= ctx.now.getTime() ? t('broadcasts.preview.sendNow') : t('broadcasts.preview.sendAt', { when: dateTime(ctx, leaves.leaves.toISOString()) })}</button></p>`
    : `<p class="warning">${t('broadcasts.preview.nobody')}</p>`;
  return `<section aria-labelledby="h-preview" class="preview" id="preview">
<h2 id="h-preview">${t('broadcasts.preview.title')}</h2>
${changed ? `<p class="warning" role="alert">${t('broadcasts.preview.changed')}</p>` : ''}
<p data-preview="recipients">${t('broadcasts.preview.count', { count: p.recipients, families: p.families })}</p>
${skipped ? `<p>${t('broadcasts.preview.skipped', { paused: p.skipped.paused, unreachable: p.skipped.unreachable })}</p>` : ''}
<p>${when}${moved ? ` ${t('broadcasts.preview.moved', { from: `${String(DEFAULT_RULES.fromHour).padStart(2, '0')}:00`, to: `${DEFAULT_RULES.toHour}:00` })}` : ''}</p>
${perLanguage}
${send}
</section>`;
}

async function formPage(ctx: DeskContext, d: Draft, problems: Problem[], status: number, preview?: { changed: boolean }): Promise<Response> {
  const [districts, tutors] = await Promise.all([loadDistricts(ctx), loadTutors(ctx)]);
  const when = timing(ctx, d);
  const valid = audienceSchema.safeParse(d.audience).success;
  const p = valid ? await previewBroadcast(ctx.db, bot(), ctx.staff.id, d.audience, d.texts, 'field' in when ? sendTime(ctx.now) : when.leaves) : undefined;
  const reached = p ? (Object.keys(p.languages) as Language[]).filter(isLanguage) : [];
  const shown = preview && p && !('field' in when) && !problems.length ? previewSection(ctx, d, when, p, preview.changed) : undefined;
  const body = newForm(ctx, d, { districts, tutors, reached, problems, preview: shown, previewed: shown ? fingerprint(d) : undefined });
  return ctx.render(ctx.t('broadcasts.form.title'), body, { status });
}

/** Preview (preview=1, or a send whose preview no longer matches the form), or create once per form key. */
async function postNew(ctx: DeskContext, form: FormData): Promise<Response> {
  const d = postedDraft(form);
  const problems = check(ctx, d);
  if (problems.length) return formPage(ctx, d, problems, 422);
  const wantsSend = form.get('send') === '1' && form.get('preview') !== '1';
  const previewed = one(form, 'previewed');
  if (!wantsSend || previewed !== fingerprint(d)) return formPage(ctx, d, [], 200, { changed: wantsSend });
  const when = timing(ctx, d);
  if ('field' in when) return formPage(ctx, d, [when], 422);
  const created = await call<{ ref: number; status: string; send_at: string; created: boolean }>(ctx.db, 'broadcast_create', {
    p_staff_id: ctx.staff.id,
    p_source: 'desk',
    p_source_key: `desk:${ctx.staff.id}:${d.key}`,
    p_audience: d.audience,
    p_texts: d.texts,
    p_send_at: when.leaves.toISOString(),
    p_now: ctx.now.toISOString(),
  });
  ctx.logger.info({ desk: 'broadcasts', op: created.created ? 'created' : 'already created', broadcast: created.ref }, 'desk broadcast scheduled');
  return ctx.redirect(`/desk/broadcasts/${broadcastRef(created.ref)}?done=created`);
}

export const broadcastPages: DeskPage[] = [
  {
    path: '/desk/broadcasts',
    nav: { label: 'broadcasts.menu', order: 40, href: '/desk/broadcasts' },
    get: (ctx) => listPage(ctx),
  },
  {
    path: '/desk/broadcasts/new',
    get: (ctx) => formPage(ctx, { audience: {}, texts: {}, when: 'now', at: '', key: randomUUID() }, [], 200),
    post: (ctx, form) => postNew(ctx, form),
  },
  {
    path: /^\/desk\/broadcasts\/B-\d{1,9}\/cancel$/i,
    get: async (ctx) => ctx.redirect(`/desk/broadcasts/${broadcastRef(refIn(ctx) ?? 0)}#h-cancel`),
    post: (ctx, form) => cancelBroadcast(ctx, form),
  },
  {
    path: /^\/desk\/broadcasts\/B-\d{1,9}$/i,
    get: (ctx) => reportPage(ctx),
  },
];
