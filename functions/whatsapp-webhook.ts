import { parseWhatsAppWebhook, verifyTwilioSignature } from '../bot/channels/whatsapp';
import { handleInbound } from '../bot/app';
import { type CoreDeps } from '../bot/core/conversation';
import { call } from '../bot/db/rpc';
import type { FetchHandler } from '../bot/http/node-adapter';
import type { SpoolEntry, WhatsAppSpool } from './whatsapp-spool';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const twiml = () => new Response(EMPTY_TWIML, { status: 200, headers: { 'content-type': 'text/xml' } });

export interface WhatsAppWebhookDeps {
  core: CoreDeps;
  authToken: string;
  /** PUBLIC_URL: Twilio signs the URL it called, so we check against the external one, not the one we see */
  publicUrl: string;
  onQueued: () => void;
  /** when set, a post the database cannot take now is kept on disk and handled later (functions/whatsapp-spool.ts) */
  spool?: WhatsAppSpool;
}

async function signedForm(req: Request, authToken: string, publicUrl: string): Promise<Record<string, string> | null> {
  const { pathname, search } = new URL(req.url);
  const params = Object.fromEntries(new URLSearchParams(await req.text()));
  return verifyTwilioSignature(authToken, req.headers.get('x-twilio-signature'), `${publicUrl}${pathname}${search}`, params) ? params : null;
}

/**
 * Handles one signed post, live or replayed from the spool, as of when Twilio gave it to us: her 24-hour window
 * and her replies' dates are those of her message, not of the database's return.
 */
export function whatsappApply(deps: Pick<WhatsAppWebhookDeps, 'core' | 'onQueued'>): (entry: SpoolEntry) => Promise<void> {
  return async (entry) => {
    const at = new Date(entry.receivedAt);
    const core: CoreDeps = { ...deps.core, clock: { now: () => new Date(at) } };
    if (entry.kind === 'inbound') {
      const inbound = parseWhatsAppWebhook(entry.params);
      if (!inbound) return;
      const handled = await handleInbound(core, inbound);
      if (handled.replies.length) deps.onQueued();
      return;
    }
    const { MessageSid, MessageStatus, ErrorCode } = entry.params;
    if (!MessageSid || !MessageStatus) return;
    await call(core.db, 'outbox_delivery_update', {
      p_provider_message_id: MessageSid,
      p_status: MessageStatus,
      p_error_code: ErrorCode || null,
      p_now: at.toISOString(),
    });
  };
}

const direct = (deps: WhatsAppWebhookDeps, kind: SpoolEntry['kind'], params: Record<string, string>) =>
  whatsappApply(deps)({ kind, key: '', receivedAt: deps.core.clock.now().toISOString(), params });

/** POST /whatsapp/webhook: a message from her. Replies go through the outbox, not in the TwiML answer. */
export function whatsappWebhookHandler(deps: WhatsAppWebhookDeps): FetchHandler {
  return async (req) => {
    // the signature first: a forged post is refused, never spooled
    const params = await signedForm(req, deps.authToken, deps.publicUrl);
    if (!params) return new Response('Forbidden', { status: 403 });
    if (!parseWhatsAppWebhook(params)) return twiml();
    if (deps.spool) await deps.spool.submit('inbound', params);
    else await direct(deps, 'inbound', params);
    return twiml();
  };
}

/** POST /whatsapp/status: Twilio's delivery reports for what we sent. */
export function whatsappStatusHandler(deps: Omit<WhatsAppWebhookDeps, 'onQueued'>): FetchHandler {
  const full = { ...deps, onQueued: () => undefined };
  return async (req) => {
    const params = await signedForm(req, deps.authToken, deps.publicUrl);
    if (!params) return new Response('Forbidden', { status: 403 });
    if (params.MessageSid && params.MessageStatus) {
      if (deps.spool) await deps.spool.submit('status', params);
      else await direct(full, 'status', params);
    }
    return new Response(null, { status: 204 });
  };
}
