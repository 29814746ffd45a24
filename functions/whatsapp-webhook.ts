import { parseWhatsAppWebhook, verifyTwilioSignature } from '../bot/channels/whatsapp';
import { handleInbound } from '../bot/app';
import { type CoreDeps } from '../bot/core/conversation';
import { call } from '../bot/db/rpc';
import type { FetchHandler } from '../bot/http/node-adapter';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const twiml = () => new Response(EMPTY_TWIML, { status: 200, headers: { 'content-type': 'text/xml' } });

export interface WhatsAppWebhookDeps {
  core: CoreDeps;
  authToken: string;
  /** PUBLIC_URL: Twilio signs the URL it called, so we check against the external one, not the one we see */
  publicUrl: string;
  onQueued: () => void;
}

async function signedForm(req: Request, authToken: string, publicUrl: string): Promise<Record<string, string> | null> {
  const { pathname, search } = new URL(req.url);
  const params = Object.fromEntries(new URLSearchParams(await req.text()));
  return verifyTwilioSignature(authToken, req.headers.get('x-twilio-signature'), `${publicUrl}${pathname}${search}`, params) ? params : null;
}

/** POST /whatsapp/webhook: a message from her. Replies go through the outbox, not in the TwiML answer. */
export function whatsappWebhookHandler(deps: WhatsAppWebhookDeps): FetchHandler {
  return async (req) => {
    const params = await signedForm(req, deps.authToken, deps.publicUrl);
    if (!params) return new Response('Forbidden', { status: 403 });
    const inbound = parseWhatsAppWebhook(params);
    if (inbound) {
      const handled = await handleInbound(deps.core, inbound);
      if (handled.replies.length) deps.onQueued();
    }
    return twiml();
  };
}

/** POST /whatsapp/status: Twilio's delivery reports for what we sent. */
export function whatsappStatusHandler(deps: Omit<WhatsAppWebhookDeps, 'onQueued'>): FetchHandler {
  return async (req) => {
    const params = await signedForm(req, deps.authToken, deps.publicUrl);
    if (!params) return new Response('Forbidden', { status: 403 });
    if (params.MessageSid && params.MessageStatus) {
      await call(deps.core.db, 'outbox_delivery_update', {
        p_provider_message_id: params.MessageSid,
        p_status: params.MessageStatus,
        p_error_code: params.ErrorCode || null,
        p_now: deps.core.clock.now().toISOString(),
      });
    }
    return new Response(null, { status: 204 });
  };
}
