import { ask, call, type FlowContext, type Turn } from '../../core/context';
import { chunkText, childLine, euros, firstName, formatDate } from '../../core/format';
import { romeDay } from '../../time';
import { mediaKindName } from '../../core/media';

const FILES_LISTED = 10;

interface Export {
  contact: { channel: string; id: string; language: string; consent: string; consent_at: string | null };
  family: null | {
    ref: string; district: string | null; tutor: string | null; children: { name: string | null; birth_date: string | null; due_date: string | null }[];
    calls?: { kind: string; isee_max: number | null; documents: string[]; documents_ready: string[]; eligibility_answers: Record<string, string>; applied_at: string | null }[];
  };
  files: { kind: string; received_at: string }[];
  files_received?: { kind: string; sent_at: string }[];
}

export function privacyMenu(ctx: FlowContext): Turn {
  const { t } = ctx;
  return ask(t('privacy.title'), [
    { id: 'privacy:show', label: t('privacy.show') },
    { id: 'privacy:export', label: t('privacy.export') },
    { id: 'privacy:erase', label: t('privacy.erase') },
    { id: 'menu', label: t('menu.back') },
  ], { step: 'privacy' });
}

/** Her data in plain words. */
function summary(ctx: FlowContext, data: Export): string {
  const { t, contact } = ctx;
  const lng = contact.language;
  const lines = [
    t('privacy.summaryIntro'),
    `• ${t('privacy.summaryLanguage', { language: t('language.name') })}`,
    `• ${t('privacy.summaryChannel', { channel: `${data.contact.channel === 'telegram' ? 'Telegram' : 'WhatsApp'} (${data.contact.id})` })}`,
  ];
  if (data.contact.consent_at) lines.push(`• ${t('privacy.summaryConsent', { date: formatDate(lng, new Date(data.contact.consent_at).toISOString().slice(0, 10)) })}`);
  if (data.family) {
    if (data.family.district) lines.push(`• ${t('privacy.summaryDistrict', { district: data.family.district })}`);
    lines.push(`• ${data.family.tutor ? t('privacy.summaryTutor', { tutor: firstName(data.family.tutor) }) : t('privacy.summaryNoTutor')}`);
    for (const c of data.family.children) lines.push(`• ${childLine(t, lng, { id: '', ...c }, ctx.today)}`);
    for (const c of data.family.calls ?? []) {
      // what she told us about a call: her checklist and her eligibility answers
      const answers = Object.entries(c.eligibility_answers).map(([q, a]) => `${t(`calls.short.${q}`, { amount: c.isee_max != null ? euros(lng, c.isee_max) : '' })}: ${t(`calls.${a}`)}`);
      const parts = [c.documents.length ? t('calls.docsProgress', { done: c.documents_ready.length, total: c.documents.length }) : undefined, ...answers];
      if (parts.length) lines.push(`• ${t(`calls.kind.${c.kind}.name`)}: ${parts.join('; ')}`);
    }
  }
  if (data.files.length) {
    // what she sent, by day and kind (the newest first); the files themselves stay with the provider
    lines.push(`• ${t('privacy.summaryFiles', { count: data.files.length })}`);
    const newest = [...data.files].reverse();
    for (const f of newest.slice(0, FILES_LISTED)) lines.push(`   – ${formatDate(lng, romeDay(new Date(f.received_at)))}: ${mediaKindName(t, f.kind)}`);
    if (newest.length > FILES_LISTED) lines.push('   – …');
  }
  if (data.files_received?.length) lines.push(`• ${t('privacy.summaryFilesReceived', { count: data.files_received.length })}`);
  return lines.join('\n');
}

export async function privacyStep(ctx: FlowContext): Promise<Turn | undefined> {
  const { t } = ctx;
  if (ctx.contact.conversation.step === 'privacy.erase') {
    if (ctx.choice === 'erase:yes') return { replies: [{ text: t('privacy.erased') }], conversation: {}, effects: [{ op: 'privacy.forget' }] };
    return ctx.menus.main(ctx, t('privacy.kept'));
  }
  switch (ctx.choice) {
    case 'privacy:show': {
      const data = await call<Export>(ctx.deps.db, 'privacy_export', { p_contact_id: ctx.contact.id });
      const menu = privacyMenu(ctx);
      return { ...menu, replies: [{ text: summary(ctx, data) }, ...menu.replies] };
    }
    case 'privacy:export': {
      const data = await call<Export>(ctx.deps.db, 'privacy_export', { p_contact_id: ctx.contact.id });
      const parts = chunkText(JSON.stringify(data, null, 1)).map((text) => ({ text }));
      const menu = privacyMenu(ctx);
      return { ...menu, replies: [{ text: t('privacy.exportIntro') }, ...parts, ...menu.replies] };
    }
    case 'privacy:erase':
      return ask(t('privacy.eraseConfirm'), [{ id: 'erase:yes', label: t('privacy.eraseYes') }, { id: 'erase:no', label: t('privacy.eraseNo') }], { step: 'privacy.erase' });
    default:
      return undefined;
  }
}
