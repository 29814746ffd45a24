import { z } from 'zod';
import type { Db } from '../../db/client';
import { call } from '../../db/rpc';
import { LANGUAGES, isLanguage, type Language, type Translator } from '../../i18n';
import type { TranslationProvider } from '../../knowledge/translate';
import { romeDay } from '../../time';

export const AGE_BANDS = ['expecting', 'under1', '1to3', '3to6'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];
export const CHANNELS = ['telegram', 'whatsapp'] as const;

/** Who a broadcast goes to: every filter given must hold (values within one filter are alternatives); {} = every family. */
export const audienceSchema = z
  .object({
    languages: z.array(z.enum(LANGUAGES)).min(1).optional(),
    districts: z.array(z.string().regex(/^[a-z0-9-]{2,40}$/)).min(1).optional(),
    ages: z.array(z.enum(AGE_BANDS)).min(1).optional(),
    tutors: z.array(z.number().int().positive()).min(1).optional(),
    channels: z.array(z.enum(CHANNELS)).min(1).optional(),
    open_need: z.boolean().optional(),
  })
  .strict();
export type Audience = z.infer<typeof audienceSchema>;

export const MAX_TEXT = 1000;
export const textsSchema = z
  .partialRecord(z.enum(LANGUAGES), z.string().trim().min(1).max(MAX_TEXT))
  .refine((t) => typeof t.it === 'string', { message: 'the Italian text ("it") is required' });
export type Texts = Partial<Record<Language, string>>;

export interface RenderedNotice {
  /** what she reads */
  text: string;
  /** which text it carries: hers, or Italian when the coordinator gave none in her language */
  text_language: Language;
  /** the notice on one line, for the WhatsApp template's variable outside the 24-hour window */
  notice: string;
}

/**
 * The fallback rule: a language with its own text gets it; any other language gets the Italian text,
 * introduced by a line in her language saying it is in Italian and her tutor can explain it.
 */
export function renderNotice(i18n: Translator, texts: Texts, lng: Language): RenderedNotice {
  const t = i18n.t(lng);
  const own = texts[lng];
  const body = own ?? texts.it ?? '';
  const head = own ? t('broadcast.head') : `${t('broadcast.head')}\n${t('broadcast.inItalian')}`;
  // WhatsApp template variables may not hold newlines or long runs of spaces
  const notice = body.replace(/\s*\n+\s*/g, ' · ').replace(/\s{4,}/g, '   ');
  return { text: `${head}\n\n${body}`, text_language: own ? lng : 'it', notice };
}

/** The rendered notice for every language, as broadcast_release takes it. */
export function renderAll(i18n: Translator, texts: Texts): Record<Language, RenderedNotice> {
  return Object.fromEntries(LANGUAGES.map((l) => [l, renderNotice(i18n, texts, l)])) as Record<Language, RenderedNotice>;
}

/** Machine drafts from Italian for the languages that have no text; a language the provider cannot do is left out. */
export async function draftTranslations(provider: TranslationProvider, italian: string, languages: Language[]): Promise<Texts> {
  const drafts: Texts = {};
  await Promise.all(
    languages.filter((l) => l !== 'it').map(async (l) => {
      const draft = await provider.translate(italian, 'it', l);
      if (draft?.trim()) drafts[l] = draft.trim().slice(0, MAX_TEXT);
    }),
  );
  return drafts;
}

/** What broadcast_preview answers. */
export interface AudiencePreview {
  recipients: number;
  families: number;
  skipped: { paused: number; unreachable: number };
  languages: Partial<Record<Language, number>>;
  channels: Partial<Record<(typeof CHANNELS)[number], number>>;
}

/**
 * What a broadcast would do if it left at `sendAt`: whom it reaches, per language and channel, and exactly what
 * each language reads (the fallback rule applied). The API's preview and the desk's both ask this one function.
 */
export async function previewBroadcast(db: Db, i18n: Translator, staffId: string, audience: Audience, texts: Texts, sendAt: Date): Promise<AudiencePreview & { reads: Partial<Record<Language, RenderedNotice>> }> {
  const counts = await call<AudiencePreview>(db, 'broadcast_preview', { p_staff_id: staffId, p_audience: audience, p_today: romeDay(sendAt) });
  const reads = Object.fromEntries((Object.keys(counts.languages) as Language[]).map((l) => [l, renderNotice(i18n, texts, l)]));
  return { ...counts, reads };
}

/** What broadcast_counts answers. */
export interface BroadcastCounts {
  recipients: number;
  queued: number;
  waiting: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  held: number;
  cancelled: number;
  fallback: number;
  whatsapp_sent: number;
  skipped: { paused: number; unreachable: number };
  reasons: Record<string, number>;
}

export interface BroadcastReport {
  ref: number;
  status: 'scheduled' | 'sending' | 'done' | 'cancelled';
  source: 'chat' | 'api' | 'desk';
  send_at: string;
  created_at: string;
  finished_at: string | null;
  audience: Audience;
  languages: Language[];
  text_it: string;
  /** every text it carries, by language (Italian always) */
  texts: Texts;
  counts: BroadcastCounts;
}

export interface BroadcastFailure {
  family_ref: number;
  channel: string;
  language: string;
  kind: string;
  reason: string;
}

export const broadcastRef = (ref: number) => `B-${ref}`;
export const parseBroadcastRef = (arg: string | undefined) => {
  const m = /^B-?(\d{1,9})$/i.exec(arg?.trim() ?? '');
  return m ? Number(m[1]) : undefined;
};

/** The report a coordinator reads when her broadcast is done (also on request, with /broadcast B-n). */
export function countsText(i18n: Translator, language: string, ref: number, c: BroadcastCounts): string {
  const t = i18n.t(isLanguage(language) ? language : 'it');
  const reasons = Object.entries(c.reasons).map(([reason, n]) => t('broadcast.reasonLine', { reason: t(`broadcast.reason.${reason}`, { defaultValue: reason }), count: n }));
  return [
    t('broadcast.reportHead', { broadcast: broadcastRef(ref) }),
    t('broadcast.reportCounts', { recipients: c.recipients, queued: c.queued, sent: c.sent, delivered: c.delivered, read: c.read, whatsapp: c.whatsapp_sent }),
    t('broadcast.reportProblems', { failed: c.failed, held: c.held, cancelled: c.cancelled, waiting: c.waiting }),
    t('broadcast.reportSkipped', { paused: c.skipped.paused, unreachable: c.skipped.unreachable, fallback: c.fallback }),
    ...reasons,
    c.failed + c.held + c.skipped.paused + c.skipped.unreachable > 0 ? t('broadcast.reportFailuresHint', { broadcast: broadcastRef(ref) }) : '',
  ].filter(Boolean).join('\n');
}

