import { differenceInMilliseconds } from 'date-fns';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import { languageFromPhone } from '../core/languages';
import { BIDI, isolate, rtlParagraphs, textDirection, type TextDirection } from '../i18n';
import type { Inbound, InboundMedia, MediaKind, Reply } from '../core/types';
import { DEFAULT_LIMITS, type ChannelLimits, type ChannelSender, type OutboundMedia, type OutboundMessage, type SendOutcome } from './types';
import { MediaFetchError, twilioMediaPath, type MediaSource } from './media-source';
import { mediaProblem } from './media-limits';

export const WHATSAPP_WINDOW_MS = 24 * 60 * 60 * 1000;

/** No environment variable moves Twilio's host: the SDK's RequestClient is taught to, for TWILIO_API_BASE. */
export class ApiBaseRequestClient extends twilio.RequestClient {
  constructor(private readonly apiBase: string) {
    super();
  }
  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    return super.request({ ...opts, uri: opts.uri.replace('https://api.twilio.com', this.apiBase) });
  }
}

/** "1. label"; right to left, the label is isolated so a Latin district cannot pull "1." to its side, and RLM starts the line RTL (UBA P2). */
const numberedLine = (n: number, label: string, direction: TextDirection) => (direction === 'rtl' ? `${BIDI.RLM}${n}. ${isolate(label)}` : `${n}. ${label}`);

/** WhatsApp has no inline buttons in a session message: choices become numbered lines. */
export function renderWhatsApp(reply: Reply, hint: string, direction: TextDirection = 'ltr'): string {
  const body = reply.choices?.length
    ? `${reply.text}\n\n${reply.choices.map((c, i) => numberedLine(i + 1, c.label, direction)).join('\n')}\n\n${hint}`
    : reply.text;
  return direction === 'rtl' ? rtlParagraphs(body) : body;
}

const mediaKind = (contentType: string): MediaKind =>
  contentType.startsWith('image/') ? 'photo' : contentType.startsWith('audio/') ? 'voice' : contentType.startsWith('video/') ? 'video' : contentType ? 'document' : 'other';

export const stripWhatsApp = (address: string) => address.replace(/^whatsapp:/, '');

/** A Twilio inbound webhook's form fields → the core's Inbound. */
export function parseWhatsAppWebhook(params: Record<string, string>): Inbound | null {
  const from = params.From;
  const sid = params.MessageSid ?? params.SmsMessageSid;
  if (!from?.startsWith('whatsapp:') || !sid) return null;
  const media: InboundMedia[] = [];
  const count = Number(params.NumMedia ?? '0') || 0;
  for (let i = 0; i < count; i++) {
    const url = params[`MediaUrl${i}`];
    const type = params[`MediaContentType${i}`] ?? '';
    if (url) media.push({ kind: mediaKind(type), ref: url, contentType: type || undefined });
  }
  const providerId = stripWhatsApp(from);
  const text = params.Body?.trim() ? params.Body : undefined;
  const choiceId = params.ButtonPayload || undefined;
  if (!text && !choiceId && media.length === 0) return null;
  return { channel: 'whatsapp', providerId, providerMessageId: sid, text, choiceId, media: media.length ? media : undefined, languageHint: languageFromPhone(providerId) };
}

/** Twilio's messages may quote the number: reasons are stored and logged, so numbers are masked. */
const maskNumbers = (text: string) => text.replace(/\+?\d[\d ]{6,16}\d/g, (n) => `***${n.slice(-3)}`);

/** Twilio's REST errors → outbox outcomes (error codes from Twilio's error dictionary). */
export function classifyTwilioError(err: unknown): SendOutcome {
  const e = err as { status?: number; code?: number; message?: string };
  const reason = maskNumbers(`twilio ${e.status ?? '-'}/${e.code ?? '-'}: ${e.message ?? String(err)}`);
  if (e.status === undefined) return { kind: 'retry', reason };
  if (e.status === 429 || e.code === 20429) return { kind: 'retry', reason, rateLimited: true };
  if (e.status >= 500) return { kind: 'retry', reason };
  if (e.code === 21610) return { kind: 'contact_gone', reason };
  if (e.code === 63016) return { kind: 'no_template', reason };
  return { kind: 'permanent', reason };
}

export interface WhatsAppChannelOptions {
  accountSid: string;
  authToken: string;
  from: string;
  apiBase: string;
  statusCallbackUrl?: string;
  limits?: ChannelLimits;
  /** the line under numbered choices, in the person's language */
  choiceHint: (language: string) => string;
  /** files: a signed link Twilio fetches (PUBLIC_URL/media/<token>), and the source that can say a file's size first */
  media?: { link: (outboxId: number, mediaId: string, now: Date) => string; source: MediaSource };
}

export interface WhatsAppChannel extends ChannelSender {
  client: ReturnType<typeof twilio>;
  /** Deletes at Twilio a file (its media URL) or every file of a message the bot sent (`message:<sid>`); gone already counts as done. */
  eraseMedia(target: string): Promise<void>;
}

export function createWhatsAppChannel(opts: WhatsAppChannelOptions): WhatsAppChannel {
  const client = twilio(opts.accountSid, opts.authToken, { httpClient: new ApiBaseRequestClient(opts.apiBase) });

  /** WhatsApp's size and type rules, with the size the other provider reports now (Telegram's getFile). */
  async function checkMedia(media: OutboundMedia): Promise<SendOutcome | undefined> {
    if (!opts.media) return { kind: 'permanent', reason: 'media unreachable: no media link configured' };
    let size = media.size;
    try {
      size = (await opts.media.source.probe({ channel: media.channel, ref: media.ref })).size ?? size;
    } catch (err) {
      if (err instanceof MediaFetchError) return err.retry ? { kind: 'retry', reason: err.message } : { kind: 'permanent', reason: err.message };
      throw err;
    }
    const problem = mediaProblem({ channel: media.channel, contentType: media.contentType, size }, 'whatsapp');
    return problem ? { kind: 'permanent', reason: `media ${problem}: ${size ?? '?'} bytes, ${media.contentType ?? 'no type'}` } : undefined;
  }

  return {
    channel: 'whatsapp',
    limits: opts.limits ?? DEFAULT_LIMITS.whatsapp,
    // Twilio limits each sender number
    paceKey: opts.from,
    client,
    async eraseMedia(target) {
      const gone = (err: unknown) => (err as { status?: number }).status === 404;
      try {
        const message = /^message:((?:MM|SM)[0-9a-f]{32})$/i.exec(target)?.[1];
        if (message) {
          for (const m of await client.messages(message).media.list()) await client.messages(message).media(m.sid).remove().catch((err: unknown) => { if (!gone(err)) throw err; });
          return;
        }
        const path = twilioMediaPath(target);
        if (path) await client.messages(path.messageSid).media(path.mediaSid).remove();
      } catch (err) {
        if (!gone(err)) throw err;
      }
    },
    async send(message: OutboundMessage, now: Date): Promise<SendOutcome> {
      const inWindow = message.lastInboundAt !== null && differenceInMilliseconds(now, message.lastInboundAt) < WHATSAPP_WINDOW_MS;
      const base = { from: opts.from, to: `whatsapp:${message.providerId}`, ...(opts.statusCallbackUrl ? { statusCallback: opts.statusCallbackUrl } : {}) };
      let params: Parameters<typeof client.messages.create>[0];
      const media = message.payload.media;
      if (media && inWindow) {
        const checked = await checkMedia(media);
        if (checked) return checked;
        params = { ...base, mediaUrl: [opts.media!.link(message.id, media.id, now)], ...(message.payload.text ? { body: renderWhatsApp(message.payload, opts.choiceHint(message.language), textDirection(message.language)) } : {}) };
      } else if (media) {
        return { kind: 'no_template', reason: 'a file outside the 24-hour window waits for her next message' };
      } else if (inWindow) {
        params = { ...base, body: renderWhatsApp(message.payload, opts.choiceHint(message.language), textDirection(message.language)) };
      } else if (message.template) {
        const fields = message.payload as unknown as Record<string, unknown>;
        const variables = message.payload.templateVariables ?? Object.fromEntries(message.template.variables.map((name, i) => [String(i + 1), String(fields[name] ?? '')]));
        params = { ...base, contentSid: message.template.contentSid, contentVariables: JSON.stringify(variables) };
      } else {
        return { kind: 'no_template', reason: `outside the 24-hour window and no template for kind "${message.kind}" in "${message.language}"` };
      }
      try {
        const created = await client.messages.create(params);
        return { kind: 'sent', providerMessageId: created.sid };
      } catch (err) {
        return classifyTwilioError(err);
      }
    },
  };
}

/** Twilio signs every webhook: HMAC-SHA1 over the exact URL it called and the sorted form fields. */
export function verifyTwilioSignature(authToken: string, signature: string | null, url: string, params: Record<string, string>): boolean {
  if (!signature) return false;
  return twilio.validateRequest(authToken, signature, url, params);
}
