import type { TFunction } from 'i18next';
import type { Choice, Reply } from './types';
import type { Language } from '../i18n';
import type { ChildRow, MediaRef } from './context';
import { ageLabel, ageOf, childrenSummary, familyRef, languageName, needRef } from './format';

/** What staff are told about a need, whoever renders it (the flow when she writes, the escalation job). */
export interface NeedAlert {
  ref: number;
  kind: 'need' | 'question';
  category: string;
  urgency: 'normal' | 'urgent';
  familyRef: number;
  callerName?: string | null;
  district?: string | null;
  children: ChildRow[];
  /** her words, in her language */
  language: string;
  body?: string;
  /** the machine translation into the programme's language, when on and it worked */
  translation?: string;
  media?: MediaRef[];
  /** a line about where it came from (a reminder's items, a check-in), already in the reader's language */
  context?: string;
}

/** The actions on a need, as buttons (Telegram) or numbered lines (WhatsApp). */
export function needActions(t: TFunction, ref: number, which: ('take' | 'reply' | 'resolve' | 'hand')[] = ['take', 'reply', 'resolve', 'hand']): Choice[] {
  const label = { take: 'staff.needTake', reply: 'staff.needReply', resolve: 'staff.needResolve', hand: 'staff.needHand' } as const;
  return which.map((w) => ({ id: `need:${w}:${ref}`, label: t(label[w]) }));
}

export const categoryLabel = (t: TFunction, category: string) => t(`needs.category.${category}`);

/** Her words for staff: the original with its language named, then the translation when there is one. */
export function herWords(t: TFunction, reader: Language, a: Pick<NeedAlert, 'language' | 'body' | 'translation' | 'media'>): string[] {
  const lines: string[] = [];
  if (a.body) lines.push(t('staff.needWords', { language: languageName(reader, a.language), words: a.body }));
  if (a.body && a.translation) lines.push(t('staff.needTranslation', { words: a.translation }));
  for (const m of a.media ?? []) {
    const kind = t(`staff.mediaKind.${m.kind === 'photo' || m.kind === 'voice' || m.kind === 'document' ? m.kind : 'other'}`);
    // files kept before files travelled are only named; newer ones follow the text as files
    lines.push(t(m.id && m.channel ? 'staff.needMediaFollows' : 'staff.needMedia', { kind }));
    if (m.transcript) lines.push(t('staff.needTranscript', { language: languageName(reader, a.language), words: m.transcript }));
    if (m.transcript && m.transcriptTranslation) lines.push(t('staff.needTranslation', { words: m.transcriptTranslation }));
  }
  return lines;
}

/** The alert a tutor (or coordinator) receives for a new need, in the reader's language. */
export function needAlertMessage(t: TFunction, reader: Language, a: NeedAlert, today: string): Reply {
  const head = t(a.urgency === 'urgent' ? 'staff.needUrgentHead' : a.kind === 'question' ? 'staff.needQuestionHead' : 'staff.needHead', {
    need: needRef(a.ref),
    category: categoryLabel(t, a.category),
  });
  const who = t('staff.needFamily', {
    family: familyRef(a.familyRef),
    name: a.callerName ?? t('staff.noName'),
    district: a.district ?? t('staff.noDistrict'),
  });
  const children = a.children.length
    ? a.children.map((c) => (c.birth_date ? `${c.name ?? t('children.unnamed')} (${ageLabel(t, c.birth_date, today)})` : childrenSummary(t, reader, [c], today))).join(', ')
    : t('staff.noChildren');
  const lines = [head, who, t('staff.needChildren', { children }), ...(a.context ? [a.context] : []), ...herWords(t, reader, a), t('staff.needCommands', { need: needRef(a.ref) })];
  return { text: lines.join('\n'), choices: needActions(t, a.ref) };
}

export interface ListedNeed {
  ref: number;
  kind: string;
  category: string;
  urgency: string;
  status: string;
  created_at: string;
  family_ref: number;
  caller_name: string | null;
  assignee: string | null;
}

/** A listed request's buttons, named by its ref: take and reply while nobody has it, reply and open once someone has. */
export function needButtons(t: TFunction, n: Pick<ListedNeed, 'ref' | 'status'>): Choice[] {
  const need = needRef(n.ref);
  return n.status === 'open'
    ? [{ id: `need:take:${n.ref}`, label: t('staff.takeButton', { need }) }, { id: `need:reply:${n.ref}`, label: t('staff.replyButton', { need }) }]
    : [{ id: `need:reply:${n.ref}`, label: t('staff.replyButton', { need }) }, { id: `need:show:${n.ref}`, label: t('staff.showButton', { need }) }];
}

export function needLine(t: TFunction, n: ListedNeed, now: Date): string {
  return t('staff.needLine', {
    need: needRef(n.ref),
    mark: n.urgency === 'urgent' ? '🆘' : n.status === 'in_charge' ? '🟢' : '🟡',
    category: categoryLabel(t, n.category),
    family: familyRef(n.family_ref),
    name: n.caller_name ?? t('staff.noName'),
    age: ageOf(t, n.created_at, now),
  });
}
