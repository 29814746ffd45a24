import { parseDateAnswer } from '../../core/dates';
import type { Choice, ConversationState, Reply } from '../../core/types';
import { ask, call, staffNotices, type ChildRow, type Effect, type FlowContext, type Turn } from '../../core/context';
import { childLine, childrenSummary, dateExample, familyRef, firstName, formatDate } from '../../core/format';

/** Conversation data while a child is being added or changed. */
interface ChildDraft extends ConversationState {
  onboarding?: boolean;
  tutorName?: string;
  childId?: string;
  kind?: 'birth' | 'due';
  name?: string;
  /** changing one field of an existing child: only that field is asked */
  only?: 'name' | 'date';
}

const draftOf = (state: ConversationState): ChildDraft => {
  const { offered: _offered, step: _step, ...rest } = state;
  return rest as ChildDraft;
};

/** "Is your child born, or are you expecting?" — the start of adding a child. */
export function startChildren(ctx: FlowContext, draft: ChildDraft): Turn {
  const choices: Choice[] = [
    { id: 'kind:birth', label: ctx.t('profile.kindBorn') },
    { id: 'kind:due', label: ctx.t('profile.kindExpected') },
  ];
  return ask(ctx.t('profile.askKind'), choices, { ...draft, step: 'child.kind' });
}

const askName = (ctx: FlowContext, draft: ChildDraft): Turn => ({ replies: [{ text: ctx.t('profile.askName') }], conversation: { ...draft, step: 'child.name' } });

function askDate(ctx: FlowContext, draft: ChildDraft): Turn {
  const example = dateExample(draft.kind!, ctx.today);
  const text = draft.kind === 'birth' ? ctx.t('profile.askBirthDate', { name: draft.name ?? ctx.t('children.unnamed'), example }) : ctx.t('profile.askDueDate', { example });
  return { replies: [{ text }], conversation: { ...draft, step: 'child.date' } };
}

function notUnderstood(ctx: FlowContext, turn: Turn): Turn {
  turn.replies[0]!.text = `${ctx.t('common.notUnderstood')}\n${turn.replies[0]!.text}`;
  return turn;
}

/** A name as people type it: trimmed, one line, not just digits or a date. */
function cleanName(text: string): string | undefined {
  const name = text.replace(/\s+/g, ' ').trim();
  if (name.length < 1 || name.length > 60 || !/\p{L}/u.test(name)) return undefined;
  return name;
}

async function askDistrict(ctx: FlowContext, draft: ChildDraft): Promise<Turn> {
  const districts = await call<{ code: string; name: string }[]>(ctx.deps.db, 'districts_list', {});
  const choices: Choice[] = [...districts.map((d) => ({ id: `district:${d.code}`, label: d.name })), { id: 'district:other', label: ctx.t('profile.districtOther') }];
  return ask(ctx.t('profile.askDistrict'), choices, { ...draft, step: 'district' });
}

/** The end of first registration: thanks, who her tutor is (or that one will be chosen), the menu; staff are told. */
async function finishRegistration(ctx: FlowContext, draft: ChildDraft, districtCode: string | null, districtName: string | null): Promise<Turn> {
  const { t, contact } = ctx;
  const family = contact.family!;
  const tutorName = family.tutor?.name ?? draft.tutorName;
  const replies: Reply[] = [{ text: t('profile.done') }, { text: tutorName ? t('profile.linkedTutor', { tutor: firstName(tutorName) }) : t('profile.queued') }];
  const menu = ctx.menus.main(ctx);
  const notices = await staffNotices(ctx, family.id, `family-registered:${family.id}`, (t, lng, toTutor) => t(toTutor ? 'staff.newFamily' : 'staff.newFamilyQueued', {
    family: familyRef(family.ref),
    district: districtName ?? t('staff.noDistrict'),
    children: childrenSummary(t, lng, family.children, ctx.today),
  }));
  return { replies: [...replies, ...menu.replies], conversation: menu.conversation, effects: [{ op: 'profile.district', code: districtCode }, ...notices] };
}

/**
 * First registration, taken up again after something interrupted it (a danger reply, a question, a code):
 * her children first, then her district. `added` counts children added by the turn that was interrupted.
 */
export async function resumeRegistration(ctx: FlowContext, draft: ChildDraft, added: number): Promise<Turn> {
  const { t } = ctx;
  const base: ChildDraft = { onboarding: true, ...(draft.tutorName ? { tutorName: draft.tutorName } : {}) };
  const next = (ctx.contact.family?.children.length ?? 0) + added === 0
    ? startChildren(ctx, base)
    : ask(t('profile.askAnother'), [{ id: 'another:yes', label: t('profile.anotherYes') }, { id: 'another:no', label: t('profile.anotherNo') }], { ...base, step: 'child.another' });
  next.replies[0]!.text = `${t('profile.resume')}\n${next.replies[0]!.text}`;
  return next;
}

/** The steps of adding or changing a child, and of choosing the district at first registration. */
export async function profileStep(ctx: FlowContext): Promise<Turn | undefined> {
  const { t, contact } = ctx;
  const state = contact.conversation;
  const draft = draftOf(state);
  const lng = contact.language;

  switch (state.step) {
    case 'child.kind': {
      if (ctx.choice === 'kind:birth') return askName(ctx, { ...draft, kind: 'birth' });
      if (ctx.choice === 'kind:due') return askDate(ctx, { ...draft, kind: 'due' });
      return notUnderstood(ctx, startChildren(ctx, draft));
    }
    case 'child.name': {
      const name = cleanName(ctx.text);
      if (!name) return { replies: [{ text: t('profile.nameInvalid') }], conversation: state };
      if (draft.only === 'name' && draft.childId) {
        return backToChildren(ctx, [{ op: 'profile.child_update', child_id: draft.childId, name }], t('children.updated'));
      }
      return askDate(ctx, { ...draft, name });
    }
    case 'child.date': {
      const answer = parseDateAnswer(ctx.text, { today: ctx.today, kind: draft.kind ?? 'birth' });
      if (!answer.ok) {
        const reason = { not_a_date: 'notADate', impossible: 'impossible', future: 'future', too_old: 'tooOld', past: 'past', too_far: 'tooFar' }[answer.reason];
        return { replies: [{ text: t(`dates.${reason}`, { example: dateExample(draft.kind ?? 'birth', ctx.today) }) }], conversation: state };
      }
      const saved = draft.kind === 'birth'
        ? t('profile.childSaved', { name: draft.name ?? t('children.unnamed'), date: formatDate(lng, answer.date) })
        : t('profile.pregnancySaved', { date: formatDate(lng, answer.date) });
      const fields = draft.kind === 'birth' ? { birth_date: answer.date } : { due_date: answer.date };
      if (draft.childId) {
        const update: Effect = { op: 'profile.child_update', child_id: draft.childId, ...fields, ...(draft.only ? {} : { name: draft.name }) };
        return backToChildren(ctx, [update], saved);
      }
      const add: Effect = { op: 'profile.child_add', name: draft.kind === 'birth' ? draft.name! : null, ...fields };
      if (!draft.onboarding) return backToChildren(ctx, [add], saved);
      const next = ask(t('profile.askAnother'), [{ id: 'another:yes', label: t('profile.anotherYes') }, { id: 'another:no', label: t('profile.anotherNo') }], { onboarding: true, ...(draft.tutorName ? { tutorName: draft.tutorName } : {}), step: 'child.another' });
      return { ...next, replies: [{ text: saved }, ...next.replies], effects: [add] };
    }
    case 'child.another': {
      const base: ChildDraft = { onboarding: true, ...(draft.tutorName ? { tutorName: draft.tutorName } : {}) };
      if (ctx.choice === 'another:yes') return startChildren(ctx, base);
      if (ctx.choice === 'another:no') return askDistrict(ctx, base);
      return notUnderstood(ctx, ask(t('profile.askAnother'), state.offered ?? [], state));
    }
    case 'district': {
      const chosen = ctx.choice?.startsWith('district:') ? ctx.choice.slice('district:'.length) : undefined;
      if (!chosen) return notUnderstood(ctx, ask(t('profile.askDistrict'), state.offered ?? [], state));
      const label = state.offered?.find((c) => c.id === ctx.choice)?.label ?? null;
      const code = chosen === 'other' ? null : chosen;
      if (draft.onboarding) return finishRegistration(ctx, draft, code, code ? label : null);
      return backToChildren(ctx, [{ op: 'profile.district', code }], t('children.updated'));
    }
    case 'children': return childrenMenuStep(ctx);
    case 'child.action': return childActionStep(ctx);
    case 'child.remove': {
      if (ctx.choice === 'remove:yes' && draft.childId) return backToChildren(ctx, [{ op: 'profile.child_remove', child_id: draft.childId }], t('children.removed'));
      return showChildren(ctx);
    }
    default:
      return undefined;
  }
}

/** "Your children": each with age, and what she can do. Effects just decided are reflected in what is listed. */
export function showChildren(ctx: FlowContext, children: ChildRow[] = ctx.contact.family?.children ?? [], lead: Reply[] = []): Turn {
  const { t, contact } = ctx;
  const lines = children.length ? [t('children.header'), ...children.map((c) => `• ${childLine(t, contact.language, c, ctx.today)}`)] : [t('children.none')];
  const choices: Choice[] = [
    ...children.map((c) => ({ id: `child:${c.id}`, label: t('children.change', { name: c.name ?? t('children.unnamed') }) })),
    { id: 'child:add', label: t('children.add') },
    { id: 'menu', label: t('menu.back') },
  ];
  const turn = ask(lines.join('\n'), choices, { step: 'children' });
  turn.replies.unshift(...lead);
  return turn;
}

/** After a change: confirm it and list the children as they now are. */
function backToChildren(ctx: FlowContext, effects: Effect[], confirmation: string): Turn {
  let children = [...(ctx.contact.family?.children ?? [])];
  for (const e of effects) {
    if (e.op === 'profile.child_remove') children = children.filter((c) => c.id !== e.child_id);
    if (e.op === 'profile.child_update') {
      children = children.map((c) => (c.id !== e.child_id ? c : { ...c, ...(e.name ? { name: e.name } : {}), ...(e.birth_date ? { birth_date: e.birth_date, due_date: null } : {}), ...(e.due_date ? { due_date: e.due_date } : {}) }));
    }
    if (e.op === 'profile.child_add') children.push({ id: 'new', name: e.name, birth_date: e.birth_date ?? null, due_date: e.due_date ?? null });
  }
  children.sort((a, b) => (a.birth_date ?? a.due_date!).localeCompare(b.birth_date ?? b.due_date!));
  const listed = showChildren(ctx, children, [{ text: confirmation }]);
  // a child added just now has no id yet: no "change" button until the next visit
  listed.replies[1]!.choices = listed.replies[1]!.choices!.filter((c) => c.id !== 'child:new');
  listed.conversation.offered = listed.replies[1]!.choices;
  return { ...listed, effects };
}

function childrenMenuStep(ctx: FlowContext): Turn | undefined {
  const { t } = ctx;
  if (ctx.choice === 'child:add') return startChildren(ctx, {});
  const child = ctx.contact.family?.children.find((c) => ctx.choice === `child:${c.id}`);
  if (!child) return undefined;
  const name = child.name ?? t('children.unnamed');
  const choices: Choice[] = child.birth_date
    ? [{ id: 'action:name', label: t('children.changeName') }, { id: 'action:date', label: t('children.changeDate') }]
    : [{ id: 'action:born', label: t('children.born') }, { id: 'action:date', label: t('children.changeDate') }];
  if (child.birth_date) choices.push(child.reminders === false ? { id: 'action:remindersOn', label: t('care.remindersOn') } : { id: 'action:remindersOff', label: t('care.remindersOff') });
  choices.push({ id: 'action:remove', label: t('children.remove') }, { id: 'menu', label: t('menu.back') });
  return ask(t('children.chooseAction', { name }), choices, { step: 'child.action', childId: child.id });
}

function childActionStep(ctx: FlowContext): Turn | undefined {
  const { t } = ctx;
  const child = ctx.contact.family?.children.find((c) => c.id === ctx.contact.conversation.childId);
  if (!child) return showChildren(ctx);
  const name = child.name ?? t('children.unnamed');
  switch (ctx.choice) {
    case 'action:name': return askName(ctx, { childId: child.id, only: 'name' });
    case 'action:date': return askDate(ctx, { childId: child.id, only: 'date', kind: child.birth_date ? 'birth' : 'due', name });
    case 'action:born': return askName(ctx, { childId: child.id, kind: 'birth' });
    case 'action:remindersOn':
      return backToChildren(ctx, [{ op: 'care.reminders', child_id: child.id, on: true }], t('care.remindersOnDone', { child: name }));
    case 'action:remindersOff':
      return backToChildren(ctx, [{ op: 'care.reminders', child_id: child.id, on: false }], t('care.stopped', { child: name }));
    case 'action:remove':
      return ask(t('children.confirmRemove', { name }), [{ id: 'remove:yes', label: t('children.removeYes') }, { id: 'remove:no', label: t('children.removeNo') }], { step: 'child.remove', childId: child.id });
    default: return undefined;
  }
}
