/** Calls and measures: what they are, who they are for, and what her answers mean. */
import type { TFunction } from 'i18next';
import { call, type ChildRow, type FlowContext } from './context';

export type CallArea = 'nido' | 'housing';
export type CallKind = 'nido' | 'primavera' | 'bonus_nido' | 'nidi_gratis' | 'sap' | 'sat' | 'rent_support' | 'arrears' | 'dote';
export type Answer = 'yes' | 'no' | 'unsure';

export const CALL_KINDS: CallKind[] = ['nido', 'primavera', 'bonus_nido', 'nidi_gratis', 'sap', 'sat', 'rent_support', 'arrears', 'dote'];
/** Documents a call can ask for; each has a name and "where to get it" in locales (calls.doc.*, calls.where.*). */
export const DOCUMENTS = ['isee', 'isee_minors', 'spid', 'codice_fiscale', 'id_document', 'permit', 'residence', 'lease', 'eviction_notice', 'work_proof', 'vaccinations', 'receipts', 'revenue_stamp'] as const;
export const APPLY_HOW = ['online_spid', 'desk', 'sicet', 'caf', 'inps', 'tutor'] as const;
/** The measures pointed to when she is being evicted, in this order. */
export const EVICTION_KINDS: CallKind[] = ['sat', 'arrears', 'rent_support'];

export interface MissingVaccine {
  code: string;
  group_key: string;
  dose: number;
  name_it: string;
}

export interface Follow {
  following: boolean;
  docs: string[];
  answers: Record<string, Answer>;
  applied_at: string | null;
  outcome: 'admitted' | 'ranked' | 'refused' | null;
  ranking: number | null;
  help_need: { id: string; ref: number } | null;
}

/** A call as calls_for_family() returns it: what it is, who it is for, and her progress on it. */
export interface CallRow {
  id: string;
  code: string;
  kind: CallKind;
  area: CallArea;
  title_it: string;
  opens_on: string | null;
  closes_on: string | null;
  child_min_months: number | null;
  child_max_months: number | null;
  age_on: string | null;
  isee_max: number | string | null;
  residence: 'milan' | 'lombardy' | null;
  permit: 'sap' | null;
  documents: string[];
  apply_how: string[];
  apply_url: string | null;
  checked_on: string;
  unverified: boolean;
  children: (ChildRow & { missing_vaccines: MissingVaccine[] })[];
  follow: Follow | null;
}

/** The yes/no questions a call's conditions call for: ISEE under the ceiling, residence, permit. */
export function questionsFor(c: Pick<CallRow, 'isee_max' | 'residence' | 'permit'>): string[] {
  return [c.isee_max != null ? 'isee' : undefined, c.residence ? `residence_${c.residence}` : undefined, c.permit ? `permit_${c.permit}` : undefined].filter((q): q is string => !!q);
}

/** What her answers say: any "no" makes her unlikely eligible; any "I don't know" leaves it unclear. */
export function eligibility(c: Pick<CallRow, 'isee_max' | 'residence' | 'permit'>, answers: Record<string, Answer>): { verdict: 'likely' | 'unlikely' | 'unclear' | 'none'; no: string[]; unsure: string[] } {
  const questions = questionsFor(c);
  if (!questions.length) return { verdict: 'none', no: [], unsure: [] };
  const no = questions.filter((q) => answers[q] === 'no');
  const unsure = questions.filter((q) => answers[q] !== 'yes' && answers[q] !== 'no');
  return { verdict: no.length ? 'unlikely' : unsure.length ? 'unclear' : 'likely', no, unsure };
}


export const kindName = (t: TFunction, kind: string) => t(`calls.kind.${kind}.name`);

export const forFamily = (ctx: FlowContext, area: CallArea | null) =>
  call<CallRow[]>(ctx.deps.db, 'calls_for_family', { p_family_id: ctx.contact.family!.id, p_today: ctx.today, p_area: area });

/** The standing measures to point to when she is being evicted, and SICET. */
export async function evictionHelp(ctx: FlowContext): Promise<string> {
  const { t } = ctx;
  const calls = (await forFamily(ctx, 'housing')).filter((c) => EVICTION_KINDS.includes(c.kind));
  calls.sort((a, b) => EVICTION_KINDS.indexOf(a.kind) - EVICTION_KINDS.indexOf(b.kind));
  const lines = calls.map((c) => `• ${kindName(t, c.kind)}: ${t(`calls.kind.${c.kind}.what`)}`);
  return [t('calls.evictionHelpHead'), ...lines, `• ${t('calls.sicet')}`].join('\n');
}
