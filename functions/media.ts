/**
 * GET /media/<token>: the file one outbox row carries, streamed from the provider that holds it, for the one
 * signed link the WhatsApp sender gave Twilio. The link expires in minutes and opens once; anything else is a
 * plain 404, and nothing about the file or the person is logged.
 */
import type { Clock } from '../bot/clock';
import type { Db } from '../bot/db/client';
import { call } from '../bot/db/rpc';
import type { Logger } from '../bot/logger';
import { MediaFetchError, type MediaSource } from '../bot/channels/media-source';
import type { MediaSigner } from '../bot/channels/media-token';

export interface MediaRouteDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  signer: MediaSigner;
  source: MediaSource;
}

const notFound = () => new Response('Not Found', { status: 404, headers: { 'cache-control': 'no-store' } });

export function mediaHandler(deps: MediaRouteDeps) {
  return async (req: Request): Promise<Response> => {
    const token = decodeURIComponent(new URL(req.url).pathname.slice('/media/'.length));
    const grant = deps.signer.verify(token, deps.clock.now().getTime());
    if (!grant) return notFound();
    // a HEAD must not spend the one opening
    if (req.method === 'HEAD') return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
    const file = await call<{ channel: 'telegram' | 'whatsapp'; ref: string; content_type: string | null; file_name: string | null } | null>(deps.db, 'media_open', {
      p_outbox_id: grant.outboxId, p_media_id: grant.mediaId, p_nonce: grant.nonce, p_now: deps.clock.now().toISOString(),
    });
    if (!file) return notFound();
    try {
      const opened = await deps.source.open({ channel: file.channel, ref: file.ref }, req.signal);
      const type = opened.contentType && opened.contentType !== 'application/octet-stream' ? opened.contentType : (file.content_type ?? 'application/octet-stream');
      const headers: Record<string, string> = { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
      if (opened.size) headers['content-length'] = String(opened.size);
      if (file.file_name) headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(file.file_name)}`;
      deps.logger.debug({ outbox: grant.outboxId }, 'media link opened');
      return new Response(opened.body, { status: 200, headers });
    } catch (err) {
      if (!(err instanceof MediaFetchError)) throw err;
      deps.logger.warn({ outbox: grant.outboxId, problem: err.problem }, 'media link: file not available');
      return new Response('Bad Gateway', { status: err.problem === 'gone' ? 404 : 502, headers: { 'cache-control': 'no-store' } });
    }
  };
}
