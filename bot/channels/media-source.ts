/**
 * Opens a file a person sent, on the provider that holds it, as a stream: a Telegram file by getFile and the
 * bot's file URL, a Twilio media URL with the account's credentials. Neither URL ever leaves this module:
 * they carry the bot token or need the auth token, so errors name only what went wrong.
 */
import { Api, GrammyError } from 'grammy';
import type { ChannelName } from '../core/types';
import { MEDIA_LIMITS, type MediaProblem } from './media-limits';

export interface MediaLocation {
  channel: ChannelName;
  /** Telegram file_id or Twilio media URL */
  ref: string;
}

export interface OpenedMedia {
  body: ReadableStream<Uint8Array>;
  contentType?: string;
  size?: number;
}

/** A file that could not be had: `retry` when trying again later may work. */
export class MediaFetchError extends Error {
  constructor(readonly problem: MediaProblem | 'gone', readonly retry: boolean, detail: string) {
    super(`media ${problem}: ${detail}`);
  }
}

export interface MediaSource {
  /** size and type without downloading, when the provider can say */
  probe(media: MediaLocation): Promise<{ size?: number; contentType?: string }>;
  open(media: MediaLocation, signal?: AbortSignal): Promise<OpenedMedia>;
}

export interface MediaSourceOptions {
  telegram?: { token: string; apiRoot: string };
  twilio?: { accountSid: string; authToken: string; apiBase: string; /** other origins Twilio's media URLs come from (local mode: the public URL) */ mediaOrigins?: string[] };
  /** per request; a provider slower than this is retried later */
  timeoutMs?: number;
}

const fromStatus = (status: number, what: string) =>
  status === 404 || status === 410 ? new MediaFetchError('gone', false, `${what} ${status}`) : new MediaFetchError('unreachable', status >= 500 || status === 429 || status === 408, `${what} ${status}`);

export function createMediaSource(opts: MediaSourceOptions): MediaSource {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const tg = opts.telegram;
  const api = tg ? new Api(tg.token, { apiRoot: tg.apiRoot }) : undefined;
  const tw = opts.twilio;
  // credentials go only to Twilio's own origin (or the configured API base), never to a URL someone else chose
  const twilioOrigins = tw ? new Set([new URL(tw.apiBase).origin, 'https://api.twilio.com', ...(tw.mediaOrigins ?? []).map((o) => new URL(o).origin)]) : new Set<string>();
  const basic = tw ? `Basic ${Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString('base64')}` : '';

  async function telegramFile(fileId: string) {
    if (!api || !tg) throw new MediaFetchError('unreachable', false, 'telegram not configured');
    try {
      const file = await api.getFile(fileId);
      if (!file.file_path) throw new MediaFetchError('gone', false, 'telegram file has no path');
      return { size: file.file_size, url: `${tg.apiRoot}/file/bot${tg.token}/${file.file_path}` };
    } catch (err) {
      if (err instanceof MediaFetchError) throw err;
      if (err instanceof GrammyError) {
        if (/too big/i.test(err.description)) throw new MediaFetchError('too_large', false, `telegram getFile: over ${MEDIA_LIMITS.telegram.downloadBytes / 1024 / 1024} MB`);
        if (err.error_code === 429 || err.error_code >= 500) throw new MediaFetchError('unreachable', true, `telegram getFile ${err.error_code}`);
        throw new MediaFetchError('gone', false, `telegram getFile ${err.error_code}`);
      }
      throw new MediaFetchError('unreachable', true, 'telegram getFile: network');
    }
  }

  function twilioUrl(ref: string): string {
    if (!tw || !URL.canParse(ref) || !twilioOrigins.has(new URL(ref).origin)) throw new MediaFetchError('gone', false, 'not a Twilio media URL of this account');
    return ref;
  }

  async function get(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    try {
      const res = await fetch(url, { headers, redirect: 'follow', signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) });
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        throw fromStatus(res.status, 'download');
      }
      return res;
    } catch (err) {
      if (err instanceof MediaFetchError) throw err;
      throw new MediaFetchError('unreachable', true, `download: ${(err as Error).name}`);
    }
  }

  const lengthOf = (res: Response) => {
    const n = Number(res.headers.get('content-length'));
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };

  return {
    async probe(media) {
      if (media.channel === 'telegram') return { size: (await telegramFile(media.ref)).size };
      return {};
    },
    async open(media, signal) {
      if (media.channel === 'telegram') {
        const file = await telegramFile(media.ref);
        const res = await get(file.url, {}, signal);
        return { body: res.body!, contentType: res.headers.get('content-type') ?? undefined, size: lengthOf(res) ?? file.size };
      }
      const res = await get(twilioUrl(media.ref), { authorization: basic }, signal);
      return { body: res.body!, contentType: res.headers.get('content-type') ?? undefined, size: lengthOf(res) };
    },
  };
}

/** Twilio's Media resource named by a media URL: `/Accounts/AC…/Messages/MM…/Media/ME…`. */
export function twilioMediaPath(ref: string): { messageSid: string; mediaSid: string } | undefined {
  const m = /\/Messages\/((?:MM|SM)[0-9a-f]{32})\/Media\/(ME[0-9a-f]{32})(?:\.json)?$/i.exec(URL.canParse(ref) ? new URL(ref).pathname : '');
  return m ? { messageSid: m[1]!, mediaSid: m[2]! } : undefined;
}
