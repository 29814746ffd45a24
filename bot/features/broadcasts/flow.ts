import type { TFunction } from 'i18next';
import { addYears, isValid } from 'date-fns';
import { TZDate } from '@date-fns/tz';
import {
  AGE_BANDS, CHANNELS, MAX_TEXT, broadcastRef, countsText, draftTranslations, parseBroadcastRef, renderNotice,
  type Audience, type AudiencePreview, type BroadcastFailure, type BroadcastReport, type Texts,
} from './service';
import { DEFAULT_RULES, sendTime } from '../../care/reminders';
import type { Choice, ConversationState } from '../../core/types';
import { LANGUAGES, isLanguage, type Language } from '../../i18n';
import { PROGRAMME_TZ, romeDay } from '../../time';
import { ask, call, type Effect, type FlowContext, type StaffProfile, type Turn } from '../../core/context';
import { familyRef, languageName, staffRef } from '../../core/format';
import { staffDone } from '../../core/staff-ui';

type Dimension = 'languages' | 'districts' | 'ages' | 'tutors' | 'channels';
const DIMENSIONS: Dimension[] = ['languages', 'districts', 'ages', 'tutors', 'channels'];

interface WizardState extends ConversationState {
  step: 'broadcast';
  stage: 'audience' | 'text' | 'langs' | 'langText' | 'when';
  audience: Audience;
  texts: Texts;
  drafts?: Texts;
  lang?: Language;
}

const isWizard = (s: ConversationState): s is WizardState => s.step === 'broadcast';

/** "at 10:00 on 25/11" style: DD/MM[/YYYY] HH:MM or YYYY-MM-DD HH:MM, on Rome's wall clock; the next such day if no year. */
export function parseWhen(text: string, now: Date): Date | null {
  const m = /^(?:(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}))?|(\d{4})-(\d{2})-(\d{2}))[\sT,]+(?:ore\s+|at\s+)?(\d{1,2})[:.](\d{2})$/i.exec(text.trim());
  if (!m) return null;
  const [day, month, year] = m[1] ? [Number(m[1]), Number(m[2]), m[3] ? Number(m[3]) : undefined] : [Number(m[6]), Number(m[5]), Number(m[4])];
  const [hour, minute] = [Number(m[7]), Number(m[8])];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null;
  const build = (y: number) => new TZDate(y, month - 1, day, hour, minute, 0, PROGRAMME_TZ);
  const thisYear = new TZDate(now.getTime(), PROGRAMME_TZ).getFullYear();
  let at = build(year ?? thisYear);
  if (!isValid(at) || at.getDate() !== day) return null;
  if (year === undefined && at.getTime() < now.getTime()) at = build(addYears(at, 1).getFullYear());
  return new Date(at.getTime());
}

const when = (lng: Language, d: Date) =>
  new Intl.DateTimeFormat(lng, { timeZone: PROGRAMME_TZ, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(d);

/** 09:00 on Rome's wall clock, as the reader's language writes a time. */
const clockTime = (lng: Language, d: Date) => new Intl.DateTimeFormat(lng, { timeZone: PROGRAMME_TZ, hour: '2-digit', minute: '2-digit' }).format(d);

/** A whole hour of the notices' window, as the reader's language writes it. */
const windowHour = (lng: Language, hour: number) => clockTime(lng, new Date(new TZDate(2026, 0, 15, hour, 0, 0, PROGRAMME_TZ).getTime()));

/**
 * When a broadcast confirmed now actually leaves: at once inside the notices' window, otherwise when it next
 * opens (today or tomorrow, Rome time). The window is the reminders' one (sendTime): families are not woken at night.
 */
export function departure(now: Date): { at: Date; day: 'now' | 'today' | 'tomorrow' } {
  const at = sendTime(now);
  if (at.getTime() <= now.getTime()) return { at, day: 'now' };
  return { at, day: romeDay(at) === romeDay(now) ? 'today' : 'tomorrow' };
}

function describeAudience(t: TFunction, lng: Language, a: Audience, districtNames: Map<string, string>): string {
  const parts: string[] = [];
  if (a.languages) parts.push(t('broadcast.filterLanguages', { list: a.languages.map((l) => languageName(lng, l)).join(', ') }));
  if (a.districts) parts.push(t('broadcast.filterDistricts', { list: a.districts.map((d) => districtNames.get(d) ?? d).join(', ') }));
  if (a.ages) parts.push(t('broadcast.filterAges', { list: a.ages.map((b) => t(`broadcast.age.${b}`)).join(', ') }));
  if (a.tutors) parts.push(t('broadcast.filterTutors', { list: a.tutors.map(staffRef).join(', ') }));
  if (a.channels) parts.push(t('broadcast.filterChannels', { list: a.channels.map((c) => (c === 'telegram' ? 'Telegram' : 'WhatsApp')).join(', ') }));
  if (a.open_need) parts.push(t('broadcast.filterOpenNeed'));
  return parts.length ? parts.join('\n') : t('broadcast.filterAll');
}

async function districts(ctx: FlowContext) {
  return call<{ code: string; name: string }[]>(ctx.deps.db, 'districts_list', {});
}

async function preview(ctx: FlowContext, staff: StaffProfile, audience: Audience): Promise<AudiencePreview> {
  return call<AudiencePreview>(ctx.deps.db, 'broadcast_preview', { p_staff_id: staff.id, p_audience: audience, p_today: ctx.today });
}

async function audienceScreen(ctx: FlowContext, staff: StaffProfile, state: WizardState, lead?: string): Promise<Turn> {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const names = new Map((await districts(ctx)).map((d) => [d.code, d.name]));
  const p = await preview(ctx, staff, state.audience);
  const text = [
    lead,
    t('broadcast.audienceTitle'),
    describeAudience(t, lng, state.audience, names),
    t('broadcast.audienceCount', { count: p.recipients, families: p.families }),
    p.skipped.paused + p.skipped.unreachable > 0 ? t('broadcast.audienceSkipped', { paused: p.skipped.paused, unreachable: p.skipped.unreachable }) : '',
  ].filter(Boolean).join('\n');
  const choices: Choice[] = [
    ...DIMENSIONS.map((d) => ({ id: `bc:filter:${d}`, label: t(`broadcast.by.${d}`) })),
    { id: 'bc:openneed', label: t(state.audience.open_need ? 'broadcast.openNeedOff' : 'broadcast.openNeedOn') },
    ...(Object.keys(state.audience).length ? [{ id: 'bc:clear', label: t('broadcast.clear') }] : []),
    ...(p.recipients > 0 ? [{ id: 'bc:next', label: t('broadcast.next') }] : []),
    { id: 'bc:cancel', label: t('broadcast.discard') },
  ];
  return ask(text, choices, { ...state, stage: 'audience' });
}

async function pickScreen(ctx: FlowContext, state: WizardState, dim: Dimension): Promise<Turn> {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const chosen = new Set((state.audience[dim] as (string | number)[] | undefined)?.map(String) ?? []);
  let options: { value: string; label: string }[];
  switch (dim) {
    case 'languages': options = LANGUAGES.map((l) => ({ value: l, label: languageName(lng, l) })); break;
    case 'districts': options = (await districts(ctx)).map((d) => ({ value: d.code, label: d.name })); break;
    case 'ages': options = AGE_BANDS.map((b) => ({ value: b, label: t(`broadcast.age.${b}`) })); break;
    case 'channels': options = CHANNELS.map((c) => ({ value: c, label: c === 'telegram' ? 'Telegram' : 'WhatsApp' })); break;
    case 'tutors': {
      const list = await call<{ ref: number; name: string; role: string }[]>(ctx.deps.db, 'staff_tutors', { p_contact_id: ctx.contact.id, p_now: ctx.now.toISOString() });
      options = list.map((s) => ({ value: String(s.ref), label: `${staffRef(s.ref)} ${s.name}` }));
      break;
    }
  }
  const choices = options.filter((o) => !chosen.has(o.value)).map((o) => ({ id: `bc:add:${dim}:${o.value}`, label: o.label }));
  choices.push({ id: 'bc:back', label: t('broadcast.back') });
  return ask(t(`broadcast.pick.${dim}`), choices, { ...state, stage: 'audience' });
}

async function languagesScreen(ctx: FlowContext, staff: StaffProfile, state: WizardState, lead?: string, known?: AudiencePreview): Promise<Turn> {
  const { t } = ctx;
  const lng = ctx.contact.language;
  const p = known ?? (await preview(ctx, staff, state.audience));
  const langs = (Object.keys(p.languages) as Language[]).sort((a, b) => (p.languages[b] ?? 0) - (p.languages[a] ?? 0));
  const lines = langs.map((l) => t('broadcast.langLine', {
    language: languageName(lng, l),
    count: p.languages[l] ?? 0,
    state: t(state.texts[l] ? 'broadcast.langOwn' : state.drafts?.[l] ? 'broadcast.langDraft' : 'broadcast.langItalian'),
  }));
  const missing = langs.filter((l) => l !== 'it' && !state.texts[l]);
  const choices: Choice[] = [
    ...(missing.some((l) => !state.drafts?.[l]) && ctx.deps.translate ? [{ id: 'bc:draft', label: t('broadcast.draft') }] : []),
    ...(state.drafts && Object.keys(state.drafts).length ? [{ id: 'bc:approve', label: t('broadcast.approveDrafts') }] : []),
    ...missing.map((l) => ({ id: `bc:write:${l}`, label: t('broadcast.writeFor', { language: languageName(lng, l) }) })),
    { id: 'bc:preview', label: t('broadcast.previewButton') },
    { id: 'bc:edit', label: t('broadcast.editItalian') },
    { id: 'bc:cancel', label: t('broadcast.discard') },
  ];
  const text = [lead, t('broadcast.langsTitle'), ...lines, missing.length ? t('broadcast.fallbackRule') : '', ctx.deps.translate ? '' : t('broadcast.noTranslator')].filter(Boolean).join('\n');
  return ask(text, choices, { ...state, stage: 'langs' });
}

/** One message per language exactly as she will read it, then the count and the send buttons. */
async function previewScreen(ctx: FlowContext, staff: StaffProfile, state: WizardState): Promise<Turn> {
  const { t, deps } = ctx;
  const lng = ctx.contact.language;
  const p = await preview(ctx, staff, state.audience);
  const langs = Object.keys(p.languages) as Language[];
  const replies = langs.map((l) => {
    const r = renderNotice(deps.i18n, state.texts, l);
    return { text: `${t('broadcast.previewFor', { language: languageName(lng, l), count: p.languages[l] ?? 0 })}\n\n${r.text}` };
  });
  const leaves = departure(ctx.now);
  const time = clockTime(lng, leaves.at);
  const window = { from: windowHour(lng, DEFAULT_RULES.fromHour), to: windowHour(lng, DEFAULT_RULES.toHour) };
  const text = [
    t('broadcast.confirm', { count: p.recipients, skipped: p.skipped.paused + p.skipped.unreachable }),
    leaves.day === 'now' ? t('broadcast.leavesNow', window) : t(leaves.day === 'today' ? 'broadcast.leavesToday' : 'broadcast.leavesTomorrow', { ...window, time }),
  ].join('\n');
  const send = leaves.day === 'now' ? t('broadcast.sendNow') : t(leaves.day === 'today' ? 'broadcast.sendAtToday' : 'broadcast.sendAtTomorrow', { time });
  const turn = ask(text, [
    { id: 'bc:now', label: send },
    { id: 'bc:later', label: t('broadcast.sendLater') },
    { id: 'bc:langs', label: t('broadcast.back') },
    { id: 'bc:cancel', label: t('broadcast.discard') },
  ], { ...state, stage: 'langs' });
  turn.replies.unshift(...replies);
  return turn;
}

/** Creates the broadcast; `chosen` is a time the coordinator typed (said plainly when the window moves it). */
async function schedule(ctx: FlowContext, staff: StaffProfile, state: WizardState, at: Date, chosen: boolean): Promise<Turn> {
  const { t } = ctx;
  const sendAt = sendTime(at);
  // the number is taken now so the answer can name it; the broadcast itself is stored with the answer (one write path)
  const number = Number(await call<number | string>(ctx.deps.db, 'broadcast_ref_next', {}));
  const create: Effect = {
    op: 'broadcasts.create', ref: number, source: 'chat', source_key: `chat:${ctx.inbound.channel}:${ctx.inbound.providerMessageId}`,
    audience: state.audience, texts: state.texts, send_at: sendAt.toISOString(),
  };
  const ref = broadcastRef(number);
  const moved = chosen && sendAt.getTime() !== at.getTime();
  const lines = [
    sendAt.getTime() <= ctx.now.getTime() ? t('broadcast.sendingNow', { broadcast: ref }) : t('broadcast.scheduled', { broadcast: ref, when: when(ctx.contact.language, sendAt) }),
    moved ? t('broadcast.movedToDay') : '',
    t('broadcast.afterHint', { broadcast: ref }),
  ];
  return { ...staffDone(ctx, lines.filter(Boolean).join('\n')), effects: [create] };
}

/** The broadcast wizard: audience → Italian text → languages (own text, approved draft, or Italian with a note) → preview → now or later. */
export async function broadcastTurn(ctx: FlowContext, staff: StaffProfile): Promise<Turn | undefined> {
  const state = ctx.contact.conversation;
  const choice = ctx.choice?.startsWith('bc:') ? ctx.choice.slice(3) : undefined;
  if (!isWizard(state) || (ctx.choice !== undefined && !choice) || (ctx.text.startsWith('/') && !choice)) return undefined;
  const { t, deps } = ctx;
  if (staff.role !== 'coordinator') return staffDone(ctx, t('staff.notAllowed'));

  if (choice === 'cancel') return staffDone(ctx, t('broadcast.discarded'));
  if (choice === 'back') return audienceScreen(ctx, staff, state);
  if (choice === 'clear') return audienceScreen(ctx, staff, { ...state, audience: {} });
  if (choice === 'openneed') {
    const { open_need, ...rest } = state.audience;
    return audienceScreen(ctx, staff, { ...state, audience: open_need ? rest : { ...rest, open_need: true } });
  }
  const filter = /^filter:(\w+)$/.exec(choice ?? '');
  if (filter && DIMENSIONS.includes(filter[1] as Dimension)) return pickScreen(ctx, state, filter[1] as Dimension);
  const add = /^add:(\w+):([\w-]+)$/.exec(choice ?? '');
  if (add && DIMENSIONS.includes(add[1] as Dimension)) {
    const dim = add[1] as Dimension;
    const value = dim === 'tutors' ? Number(add[2]) : add[2]!;
    const current = (state.audience[dim] ?? []) as (string | number)[];
    return audienceScreen(ctx, staff, { ...state, audience: { ...state.audience, [dim]: [...new Set([...current, value])] } as Audience });
  }
  if (choice === 'next') return state.texts.it ? languagesScreen(ctx, staff, state) : ask(t('broadcast.askItalian', { max: MAX_TEXT }), [], { ...state, stage: 'text' });
  if (choice === 'edit') return ask(t('broadcast.askItalian', { max: MAX_TEXT }), [], { ...state, stage: 'text' });
  if (choice === 'langs') return languagesScreen(ctx, staff, state);
  if (choice === 'draft' && deps.translate) {
    const p = await preview(ctx, staff, state.audience);
    const missing = (Object.keys(p.languages) as Language[]).filter((l) => l !== 'it' && !state.texts[l]);
    const drafts = { ...state.drafts, ...(await draftTranslations(deps.translate, state.texts.it!, missing)) };
    const shown = Object.entries(drafts).map(([l, d]) => ({ text: `${t('broadcast.draftFor', { language: languageName(ctx.contact.language, l) })}\n\n${d}` }));
    const failed = missing.filter((l) => !drafts[l]);
    const turn = await languagesScreen(ctx, staff, { ...state, drafts }, failed.length ? t('broadcast.draftFailed', { list: failed.map((l) => languageName(ctx.contact.language, l)).join(', ') }) : undefined, p);
    turn.replies.unshift(...shown);
    return turn;
  }
  if (choice === 'approve') return languagesScreen(ctx, staff, { ...state, texts: { ...state.drafts, ...state.texts }, drafts: {} }, t('broadcast.draftsApproved'));
  const write = /^write:(\w+)$/.exec(choice ?? '');
  if (write && isLanguage(write[1])) {
    return ask(t('broadcast.askLanguage', { language: languageName(ctx.contact.language, write[1]), max: MAX_TEXT }), [{ id: 'bc:langs', label: t('broadcast.back') }], { ...state, stage: 'langText', lang: write[1] });
  }
  if (choice === 'preview') return previewScreen(ctx, staff, state);
  if (choice === 'now') return schedule(ctx, staff, state, ctx.now, false);
  if (choice === 'later') return ask(t('broadcast.askWhen', { example: '25/11 10:00' }), [{ id: 'bc:langs', label: t('broadcast.back') }], { ...state, stage: 'when' });

  // typed text, by stage
  const text = ctx.text.trim();
  if (!choice && text) {
    if (state.stage === 'text' || state.stage === 'langText') {
      if (text.length > MAX_TEXT) return ask(t('broadcast.tooLong', { max: MAX_TEXT, length: text.length }), [], state);
      const lang = state.stage === 'text' ? 'it' : state.lang!;
      const drafts = { ...state.drafts };
      delete drafts[lang];
      return languagesScreen(ctx, staff, { ...state, texts: { ...state.texts, [lang]: text }, drafts }, t('broadcast.textSaved', { language: languageName(ctx.contact.language, lang) }));
    }
    if (state.stage === 'when') {
      const at = parseWhen(text, ctx.now);
      if (!at) return ask(t('broadcast.badWhen', { example: '25/11 10:00' }), [{ id: 'bc:langs', label: t('broadcast.back') }], state);
      if (at.getTime() < ctx.now.getTime() - 60_000) return ask(t('broadcast.pastWhen'), [{ id: 'bc:langs', label: t('broadcast.back') }], state);
      if (at.getTime() > ctx.now.getTime() + 90 * 86_400_000) return ask(t('broadcast.farWhen'), [{ id: 'bc:langs', label: t('broadcast.back') }], state);
      return schedule(ctx, staff, state, at, true);
    }
  }
  // anything else: show where we are again
  return state.stage === 'audience' ? audienceScreen(ctx, staff, state) : languagesScreen(ctx, staff, state);
}

/** /broadcast starts the wizard; /broadcast B-n shows that broadcast's report. */
export async function broadcastCommand(ctx: FlowContext, staff: StaffProfile, arg: string | undefined): Promise<Turn> {
  const { t } = ctx;
  if (arg === undefined) return audienceScreen(ctx, staff, { step: 'broadcast', stage: 'audience', audience: {}, texts: {} }, t('broadcast.intro'));
  const ref = parseBroadcastRef(arg);
  if (ref === undefined) return staffDone(ctx, t('staff.usage', { example: '/broadcast B-3' }));
  const report = await call<BroadcastReport | null>(ctx.deps.db, 'broadcast_report', { p_staff_id: staff.id, p_ref: ref, p_now: ctx.now.toISOString() });
  if (!report) return staffDone(ctx, t('broadcast.unknown', { broadcast: arg }));
  const head = t('broadcast.statusLine', { broadcast: broadcastRef(ref), status: t(`broadcast.status.${report.status}`), when: when(ctx.contact.language, new Date(report.send_at)) });
  return staffDone(ctx, [head, countsText(ctx.deps.i18n, ctx.contact.language, ref, report.counts)].join('\n'));
}

export async function broadcastsList(ctx: FlowContext, staff: StaffProfile): Promise<Turn> {
  const { t } = ctx;
  const list = await call<{ ref: number; status: BroadcastReport['status']; send_at: string; text_it: string; counts: BroadcastReport['counts'] }[]>(ctx.deps.db, 'broadcasts_list', { p_staff_id: staff.id, p_limit: 10 });
  if (!list.length) return staffDone(ctx, t('broadcast.none'), [{ id: 'staff:broadcast', label: t('broadcast.menuNew') }]);
  const lines = list.map((b) => t('broadcast.listLine', {
    broadcast: broadcastRef(b.ref), status: t(`broadcast.status.${b.status}`), when: when(ctx.contact.language, new Date(b.send_at)),
    sent: b.counts.sent, recipients: b.counts.recipients, text: b.text_it,
  }));
  return staffDone(ctx, [...lines, t('broadcast.listHint')].join('\n'), [{ id: 'staff:broadcast', label: t('broadcast.menuNew') }]);
}

export async function broadcastFailures(ctx: FlowContext, staff: StaffProfile, arg: string | undefined): Promise<Turn> {
  const { t } = ctx;
  const ref = parseBroadcastRef(arg);
  if (ref === undefined) return staffDone(ctx, t('staff.usage', { example: '/failures B-3' }));
  const rows = await call<BroadcastFailure[]>(ctx.deps.db, 'broadcast_failures', { p_staff_id: staff.id, p_ref: ref, p_limit: 200 });
  if (!rows.length) return staffDone(ctx, t('broadcast.noFailures', { broadcast: broadcastRef(ref) }));
  const lines = rows.map((f) => t('broadcast.failureLine', {
    family: familyRef(f.family_ref), channel: f.channel === 'telegram' ? 'Telegram' : 'WhatsApp', language: f.language,
    reason: t(`broadcast.reason.${f.kind}`, { defaultValue: f.kind }), detail: f.reason ?? '',
  }));
  return staffDone(ctx, [t('broadcast.failuresHead', { broadcast: broadcastRef(ref), count: rows.length }), ...lines].join('\n'));
}

export async function broadcastCancel(ctx: FlowContext, staff: StaffProfile, arg: string | undefined): Promise<Turn> {
  const { t } = ctx;
  const ref = parseBroadcastRef(arg);
  if (ref === undefined) return staffDone(ctx, t('staff.usage', { example: '/cancelbroadcast B-3' }));
  const out = await call<{ was: string; status: string; messages_cancelled: number } | null>(ctx.deps.db, 'broadcast_cancel_preview', { p_staff_id: staff.id, p_ref: ref });
  if (!out) return staffDone(ctx, t('broadcast.unknown', { broadcast: arg }));
  if (out.was === 'done' || out.was === 'cancelled') return staffDone(ctx, t('broadcast.cannotCancel', { broadcast: broadcastRef(ref), status: t(`broadcast.status.${out.was}`) }));
  const cancel: Effect = { op: 'broadcasts.cancel', ref };
  return { ...staffDone(ctx, t(out.was === 'scheduled' ? 'broadcast.cancelled' : 'broadcast.stopped', { broadcast: broadcastRef(ref), count: out.messages_cancelled })), effects: [cancel] };
}
