/**
 * A local stand-in for Twilio's Programmable Messaging API (WhatsApp channel): the REST endpoints the SDK calls,
 * the 24-hour customer service window, per-sender queueing, signed status callbacks and inbound webhooks,
 * plus fault injection and a small JSON control API for a browser playground.
 *
 * Media: an outbound MediaUrl is fetched before 'sent' and checked against WhatsApp's types and sizes; every
 * media (sent or received) is a Media resource behind HTTP Basic auth that redirects to a short-lived URL, as
 * Twilio does with "Enforce HTTP Auth on Media URLs" on.
 *
 * Timing: `now()` drives dates, the 24-hour window and media URL expiry; queue pacing and delivery delays use
 * real timers, because they model throughput under load rather than calendar time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import twilio from 'twilio';
import { serveFetch, type FetchHandler, type RequestInfo, type ServedHandler } from '../http/node-adapter';

export interface TwilioEmulatorOptions {
  accountSid: string;
  authToken: string;
  senders: string[];
  incomingWebhookUrl?: string;
  now?: () => number;
  basePath?: string;
  messagesPerSecond?: number;
  maxConcurrentRequests?: number;
  templates?: Record<string, { body: string }>;
  autoDeliver?: boolean;
  /** Delay between 'sent' and 'delivered' (real ms); default 10. */
  deliveryDelayMs?: number;
  /** Public origin + basePath used in inbound MediaUrl when mounted in another server; default the listen() URL. */
  publicUrl?: string;
  /** Also send a HEAD to an outbound MediaUrl before the GET (Twilio documents both); default off. */
  mediaHeadProbe?: boolean;
}

export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';

/** A Media resource as the recipient got it; the bytes through `mediaContent(sid)` while not deleted. */
export interface EmulatedMedia {
  sid: string;
  contentType: string;
  size: number;
}

export interface EmulatedMessage {
  sid: string;
  from: string;
  to: string;
  /** What the user sees: Body, or the template rendered with ContentVariables. */
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  mediaUrls: string[];
  /** What the user received: the file Twilio fetched from the first MediaUrl (WhatsApp carries one). */
  media: EmulatedMedia[];
  status: MessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  statusCallback: string | null;
  dateCreated: number;
  dateUpdated: number;
  dateSent: number | null;
  /** Global change counter at this message's last change; the control API's cursor. */
  seq: number;
}

export type Fault =
  | { kind: '429'; count: number }
  | { kind: '5xx'; count: number; status?: number }
  | { kind: 'slow'; count: number; delayMs: number }
  | { kind: 'drop-before'; count: number }
  | { kind: 'drop-after'; count: number };

export interface UserMessage {
  body?: string;
  media?: { contentType: string; bytes?: Uint8Array }[];
  buttonPayload?: string;
  buttonText?: string;
  profileName?: string;
}

export interface EmulatorStats {
  requests: number;
  created: number;
  tooManyRequests: number;
  serverErrors: number;
  dropped: number;
  callbacksSent: number;
  callbacksFailed: number;
  /** outbound MediaUrl downloads attempted, and those that failed the message (unreachable, too large, wrong type) */
  mediaFetches: number;
  mediaFetchFailures: number;
}

export interface TwilioEmulator {
  /** Fetch handler for mounting; drop faults use `info.dropConnection` (set by the Node adapter) and reject without it. */
  handle: FetchHandler;
  listen(port?: number): Promise<{ apiBase: string; close(): Promise<void> }>;
  setIncomingWebhookUrl(url: string): void;
  addTemplate(contentSid: string, body: string): void;
  userSends(from: string, msg: UserMessage, to?: string): Promise<{ messageSid: string; status: number }>;
  optOut(number: string): void;
  optIn(number: string): void;
  markRead(number: string): void;
  /** Moves a message by hand (e.g. with autoDeliver off): 'delivered', 'read', 'undelivered' + code, … */
  setMessageStatus(sid: string, status: MessageStatus, errorCode?: number): void;
  messagesTo(number: string): EmulatedMessage[];
  message(sid: string): EmulatedMessage | undefined;
  /** The stored bytes of a Media resource (outbound or inbound); undefined once deleted or when unknown. */
  mediaContent(mediaSid: string): Uint8Array | undefined;
  inject(fault: Fault): void;
  clearFaults(): void;
  stats(): EmulatorStats;
  waitForMessages(number: string, count: number, timeoutMs?: number): Promise<EmulatedMessage[]>;
  settle(): Promise<void>;
  close(): Promise<void>;
}

interface StoredMessage extends EmulatedMessage {
  readOnDelivery: boolean;
  callbacks: Promise<void>;
}

interface StoredMedia extends EmulatedMedia {
  messageSid: string;
  bytes: Uint8Array<ArrayBuffer>;
  dateCreated: number;
}

type Download = { contentType: string; bytes: Uint8Array<ArrayBuffer> } | { errorCode: number };

const API_VERSION = '2010-04-01';
const WINDOW_MS = 24 * 60 * 60 * 1000;
const MAX_BODY = 1600;
const WA_ADDRESS = /^whatsapp:\+[1-9]\d{6,14}$/;
const MB = 1024 * 1024;
/** "Guidance on WhatsApp Media Messages": 16 MB per WhatsApp message, images only 5 MB. */
const WA_MAX_BYTES = 16 * MB;
const WA_MAX_IMAGE_BYTES = 5 * MB;
/** Error 21623: "You may send up to 10 media files in a single message." */
const MAX_MEDIA_URLS = 10;
/** Twilio "Accepted content types for media" (WhatsApp) and "Guidance on WhatsApp Media Messages"; audio/ogg only with Opus. */
const WA_TYPES = new Set([
  'image/jpeg', 'image/jpg', 'image/png', 'image/webp',
  'audio/ogg', 'audio/amr', 'audio/3gpp', 'audio/aac', 'audio/mpeg', 'audio/mp4',
  'video/mp4', 'video/3gpp', 'video/3gp',
  'application/pdf', 'text/plain', 'text/vcard',
  'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-powerpoint', 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
]);
/** Twilio's secured media URLs are "only valid for 4 hours" (help article 223183748). */
const MEDIA_URL_TTL_MS = 4 * 60 * 60 * 1000;
const MEDIA_FETCH_TIMEOUT_MS = 15_000;
/** Outbound media failures, each the code Twilio documents for it (twilio.com/docs/api/errors/<code>). */
const MEDIA_ERROR = {
  /** "Twilio failed to download the media from the sender" / "returned 0 bytes" */
  download: 63019,
  /** "Media exceeds messaging provider size limit": WhatsApp 16 MB */
  tooLarge: 11751,
  /** "Unable to upload the media … because it is not supported by the messaging channel" */
  unsupported: 63021,
} as const;
const ERROR_MESSAGES: Record<number, string> = {
  30008: 'Unknown error',
  11751: 'Media Message - Media exceeds messaging provider size limit',
  63019: 'Media failed to download',
  63021: 'Channel invalid content error',
  63016:
    'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
};

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const newSid = (prefix: string) => prefix + hex(16);
/** RFC 2822 in GMT, as Twilio writes dates: "Thu, 30 Jul 2015 20:12:31 +0000". */
const rfc2822 = (ms: number | null) => (ms === null ? null : new Date(ms).toUTCString().replace('GMT', '+0000'));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Accepts 'whatsapp:+39…', '+39…' or bare digits; returns the WhatsApp address. */
export function waAddress(n: string): string {
  const s = n.trim();
  if (s.startsWith('whatsapp:')) return s;
  return 'whatsapp:' + (s.startsWith('+') ? s : '+' + s);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function twilioError(status: number, code: number, message: string, headers?: Record<string, string>): Response {
  return json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);
}

function bytesResponse(bytes: Uint8Array<ArrayBuffer>, contentType: string): Response {
  return new Response(bytes, { status: 200, headers: { 'content-type': contentType, 'content-length': String(bytes.byteLength) } });
}

const ascii = (bytes: Uint8Array, from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));

/** WhatsApp takes Ogg only with Opus: said by the codecs parameter, or an Ogg page whose first packet is OpusHead. */
function isOpus(contentTypeHeader: string, bytes: Uint8Array): boolean {
  if (/codecs\s*=\s*"?opus/i.test(contentTypeHeader)) return true;
  return ascii(bytes, 0, 4) === 'OggS' && ascii(bytes, 28, 36) === 'OpusHead';
}

/** Reads a body up to `limit` bytes; 'too-large' as soon as it goes over, 'broken' when the stream fails. */
async function readUpTo(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer> | 'too-large' | 'broken'> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        return 'too-large';
      }
      chunks.push(value);
    }
  } catch {
    return 'broken';
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export function createTwilioEmulator(opts: TwilioEmulatorOptions): TwilioEmulator {
  const now = opts.now ?? Date.now;
  const basePath = (opts.basePath ?? '').replace(/\/$/, '');
  const mps = opts.messagesPerSecond ?? 80;
  const maxConcurrent = opts.maxConcurrentRequests ?? 100;
  const autoDeliver = opts.autoDeliver ?? true;
  const deliveryDelayMs = opts.deliveryDelayMs ?? 10;
  const senders = new Set(opts.senders);
  const templates = new Map(Object.entries(opts.templates ?? {}).map(([k, v]) => [k, v.body]));
  let webhookUrl = opts.incomingWebhookUrl;

  const messages = new Map<string, StoredMessage>();
  const byUser = new Map<string, StoredMessage[]>();
  const lastInbound = new Map<string, number>();
  const optedOut = new Set<string>();
  const media = new Map<string, StoredMedia>();
  /** media sids per message (outbound, and inbound from userSends); deleted ones drop out of `media` only */
  const mediaOfMessage = new Map<string, string[]>();
  const mediaUrlSecret = randomBytes(32);
  const closing = new AbortController();
  const queues = new Map<string, { pending: StoredMessage[]; sentAt: number[]; timer?: NodeJS.Timeout }>();
  const timers = new Set<NodeJS.Timeout>();
  const listeners = new Set<() => void>();
  const servers = new Set<ServedHandler>();
  let faults: Fault[] = [];
  let seq = 0;
  let inFlight = 0;
  let callbacksInFlight = 0;
  let mediaFetchesInFlight = 0;
  let closed = false;
  let listenedBase: string | undefined;
  let observedBase: string | undefined;
  const counters: EmulatorStats = {
    requests: 0, created: 0, tooManyRequests: 0, serverErrors: 0, dropped: 0, callbacksSent: 0, callbacksFailed: 0,
    mediaFetches: 0, mediaFetchFailures: 0,
  };

  const publicBase = () => opts.publicUrl ?? listenedBase ?? observedBase ?? `http://127.0.0.1${basePath}`;
  const accountPath = `/${API_VERSION}/Accounts/${opts.accountSid}`;
  const snapshot = (m: StoredMessage): EmulatedMessage => {
    const { readOnDelivery: _r, callbacks: _c, ...pub } = m;
    return { ...pub, mediaUrls: [...pub.mediaUrls], media: pub.media.map((x) => ({ ...x })) };
  };
  const notify = () => listeners.forEach((l) => l());
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  /** Resolves true once `cond` holds (re-checked on every change), false on timeout or close. */
  function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        listeners.delete(check);
        clearTimeout(timer);
        resolve(ok);
      };
      const check = () => (closed ? done(false) : cond() && done(true));
      const timer = setTimeout(() => done(false), timeoutMs);
      listeners.add(check);
    });
  }

  async function postSigned(url: string, params: Record<string, string>): Promise<number> {
    const signature = twilio.getExpectedTwilioSignature(opts.authToken, url, params);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          'x-twilio-signature': signature,
          'user-agent': 'TwilioProxy/1.1',
          'i-twilio-idempotency-token': crypto.randomUUID(),
        },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(15_000), // Twilio gives webhooks 15 s
      });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  function statusCallback(m: StoredMessage) {
    if (!m.statusCallback || closed) return;
    const url = m.statusCallback;
    const params: Record<string, string> = {
      MessageSid: m.sid, SmsSid: m.sid, AccountSid: opts.accountSid, From: m.from, To: m.to,
      MessageStatus: m.status, SmsStatus: m.status, ApiVersion: API_VERSION,
      ChannelPrefix: 'whatsapp', ChannelToAddress: m.to.slice('whatsapp:'.length),
    };
    if (m.errorCode !== null) params.ErrorCode = String(m.errorCode);
    callbacksInFlight++;
    // Chained per message so its callbacks arrive in status order.
    m.callbacks = m.callbacks.then(async () => {
      const status = await postSigned(url, params);
      if (status >= 200 && status < 300) counters.callbacksSent++;
      else counters.callbacksFailed++;
      callbacksInFlight--;
    });
  }

  function setStatus(m: StoredMessage, status: MessageStatus, errorCode: number | null = null) {
    m.status = status;
    m.errorCode = errorCode;
    m.errorMessage = errorCode === null ? null : (ERROR_MESSAGES[errorCode] ?? ERROR_MESSAGES[30008]!);
    m.dateUpdated = now();
    if (status === 'sent') m.dateSent = m.dateUpdated;
    m.seq = ++seq;
    statusCallback(m);
    notify();
  }

  function deliver(m: StoredMessage) {
    if (m.status !== 'sent' || closed) return;
    setStatus(m, 'delivered');
    if (m.readOnDelivery) setStatus(m, 'read');
  }

  function send(m: StoredMessage) {
    setStatus(m, 'sent');
    if (autoDeliver) later(deliveryDelayMs, () => deliver(m));
  }

  function dispatch(m: StoredMessage) {
    const last = lastInbound.get(m.to);
    const inWindow = last !== undefined && now() - last < WINDOW_MS;
    if (!m.contentSid && !inWindow) return setStatus(m, 'failed', 63016);
    if (m.mediaUrls.length === 0) return send(m);
    mediaFetchesInFlight++;
    void attachMedia(m).finally(() => {
      mediaFetchesInFlight--;
      notify();
    });
  }

  /** Fetches the first MediaUrl (a WhatsApp message carries one; Twilio ignores the rest) and sends, or fails the message. */
  async function attachMedia(m: StoredMessage) {
    const got = await download(m.mediaUrls[0]!);
    if (closed) return;
    if ('errorCode' in got) return setStatus(m, 'failed', got.errorCode);
    const item = storeMedia(m.sid, got.contentType, got.bytes);
    m.media.push({ sid: item.sid, contentType: item.contentType, size: item.size });
    send(m);
  }

  /** GET as Twilio does (redirects followed), then WhatsApp's checks: a 2xx with bytes, an accepted type, within the size limit. */
  async function download(url: string): Promise<Download> {
    counters.mediaFetches++;
    const failed = (errorCode: number): Download => {
      counters.mediaFetchFailures++;
      return { errorCode };
    };
    const signal = () => AbortSignal.any([closing.signal, AbortSignal.timeout(MEDIA_FETCH_TIMEOUT_MS)]);
    const headers = { 'user-agent': 'TwilioProxy/1.1' };
    let res: Response;
    try {
      if (opts.mediaHeadProbe) await (await fetch(url, { method: 'HEAD', headers, signal: signal() })).arrayBuffer();
      res = await fetch(url, { headers, redirect: 'follow', signal: signal() });
    } catch {
      return failed(MEDIA_ERROR.download);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      return failed(MEDIA_ERROR.download);
    }
    const header = res.headers.get('content-type') ?? '';
    const type = header.split(';')[0]!.trim().toLowerCase();
    const limit = type.startsWith('image/') ? WA_MAX_IMAGE_BYTES : WA_MAX_BYTES;
    if (!WA_TYPES.has(type)) {
      await res.body.cancel();
      return failed(MEDIA_ERROR.unsupported);
    }
    if (Number(res.headers.get('content-length')) > limit) {
      await res.body.cancel();
      return failed(MEDIA_ERROR.tooLarge);
    }
    const bytes = await readUpTo(res.body, limit);
    if (bytes === 'too-large') return failed(MEDIA_ERROR.tooLarge);
    if (bytes === 'broken' || bytes.byteLength === 0) return failed(MEDIA_ERROR.download);
    if (type === 'audio/ogg' && !isOpus(header, bytes)) return failed(MEDIA_ERROR.unsupported);
    return { contentType: type, bytes };
  }

  function storeMedia(messageSid: string, contentType: string, bytes: Uint8Array<ArrayBuffer>): StoredMedia {
    const item: StoredMedia = { sid: newSid('ME'), messageSid, contentType, size: bytes.byteLength, bytes, dateCreated: now() };
    media.set(item.sid, item);
    const list = mediaOfMessage.get(messageSid);
    if (list) list.push(item.sid);
    else mediaOfMessage.set(messageSid, [item.sid]);
    return item;
  }

  /** Sliding one-second window per sender: at most `mps` leave the queue in any second; the rest wait. */
  function pump(sender: string) {
    const q = queues.get(sender);
    if (!q || q.timer || closed) return;
    const t = performance.now();
    while (q.sentAt.length && t - q.sentAt[0]! >= 1000) q.sentAt.shift();
    while (q.pending.length && q.sentAt.length < mps) {
      q.sentAt.push(t);
      dispatch(q.pending.shift()!);
    }
    if (q.pending.length) {
      q.timer = later(1000 - (t - q.sentAt[0]!), () => {
        q.timer = undefined;
        pump(sender);
      });
    }
  }

  function enqueue(m: StoredMessage) {
    let q = queues.get(m.from);
    if (!q) queues.set(m.from, (q = { pending: [], sentAt: [] }));
    q.pending.push(m);
    pump(m.from);
  }

  function resource(m: EmulatedMessage) {
    const uri = `${accountPath}/Messages/${m.sid}`;
    return {
      sid: m.sid, account_sid: opts.accountSid, messaging_service_sid: null, from: m.from, to: m.to, body: m.body,
      status: m.status, num_segments: '1', num_media: String(m.mediaUrls.length), direction: 'outbound-api',
      api_version: API_VERSION, price: null, price_unit: 'USD', error_code: m.errorCode, error_message: m.errorMessage,
      date_created: rfc2822(m.dateCreated), date_updated: rfc2822(m.dateUpdated), date_sent: rfc2822(m.dateSent),
      uri: `${uri}.json`, subresource_uris: { media: `${uri}/Media.json`, feedback: `${uri}/Feedback.json` },
    };
  }

  function createMessage(form: URLSearchParams): Response {
    const to = form.get('To');
    const from = form.get('From');
    const contentSid = form.get('ContentSid');
    const mediaUrls = form.getAll('MediaUrl');
    const callback = form.get('StatusCallback');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!from) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!WA_ADDRESS.test(to)) return twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!senders.has(from)) return twilioError(400, 63007, 'Twilio could not find a Channel with the specified From address');
    let body = form.get('Body') ?? '';
    let contentVariables: Record<string, string> | null = null;
    if (contentSid) {
      const template = templates.get(contentSid);
      if (template === undefined) return twilioError(400, 21655, 'The ContentSid is Invalid');
      try {
        const raw = form.get('ContentVariables');
        contentVariables = raw ? (JSON.parse(raw) as Record<string, string>) : {};
        if (typeof contentVariables !== 'object' || contentVariables === null || Array.isArray(contentVariables)) throw new Error();
      } catch {
        return twilioError(400, 21656, 'The ContentVariables Parameter is invalid');
      }
      const vars = contentVariables;
      body = template.replace(/\{\{(\w+)\}\}/g, (whole, k: string) => (k in vars ? String(vars[k]) : whole));
    } else if (!body && mediaUrls.length === 0) {
      return twilioError(400, 21602, 'Message body is required.');
    }
    if (body.length > MAX_BODY) return twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    if (mediaUrls.some((u) => !/^https?:\/\//i.test(u) || !URL.canParse(u))) return twilioError(400, 21620, 'Invalid media URL(s)');
    if (mediaUrls.length > MAX_MEDIA_URLS) return twilioError(400, 21623, 'The number of media URLs exceeds the maximum allowed. You may send up to 10 media files in a single message.');
    if (callback !== null && !URL.canParse(callback)) return twilioError(400, 21609, `The StatusCallback URL ${callback} is not a valid URL.`);
    if (optedOut.has(to)) return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');

    const t = now();
    const m: StoredMessage = {
      sid: newSid(mediaUrls.length ? 'MM' : 'SM'), from, to, body, contentSid: contentSid || null, contentVariables,
      mediaUrls, media: [], status: 'queued', errorCode: null, errorMessage: null, statusCallback: callback,
      dateCreated: t, dateUpdated: t, dateSent: null, seq: ++seq, readOnDelivery: false, callbacks: Promise.resolve(),
    };
    messages.set(m.sid, m);
    mediaOfMessage.set(m.sid, []);
    const thread = byUser.get(to);
    if (thread) thread.push(m);
    else byUser.set(to, [m]);
    counters.created++;
    const response = json(201, resource(m));
    enqueue(m);
    notify();
    return response;
  }

  function listMessages(query: URLSearchParams): Response {
    const to = query.get('To');
    const from = query.get('From');
    const pageSize = Math.min(1000, Number(query.get('PageSize')) || 50);
    const found = [...messages.values()]
      .filter((m) => (!to || m.to === to) && (!from || m.from === from))
      .reverse() // Twilio lists newest first
      .slice(0, pageSize);
    const uri = `${accountPath}/Messages.json?PageSize=${pageSize}&Page=0`;
    return json(200, {
      messages: found.map(resource), end: Math.max(0, found.length - 1), first_page_uri: uri, next_page_uri: null,
      page: 0, page_size: pageSize, previous_page_uri: null, start: 0, uri,
    });
  }

  function authorized(req: Request): boolean {
    const header = req.headers.get('authorization') ?? '';
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded === `${opts.accountSid}:${opts.authToken}`;
  }

  function mediaResource(item: StoredMedia) {
    return {
      sid: item.sid, account_sid: opts.accountSid, parent_sid: item.messageSid, content_type: item.contentType,
      date_created: rfc2822(item.dateCreated), date_updated: rfc2822(item.dateCreated),
      uri: `${accountPath}/Messages/${item.messageSid}/Media/${item.sid}.json`,
    };
  }

  /** Twilio's list shape: `media_list` plus the paging fields, Page and PageSize honoured. */
  function listMedia(messageSid: string, query: URLSearchParams): Response {
    const live = (mediaOfMessage.get(messageSid) ?? []).flatMap((sid) => media.get(sid) ?? []);
    const pageSize = Math.min(1000, Math.max(1, Number(query.get('PageSize')) || 50));
    const page = Math.max(0, Math.floor(Number(query.get('Page')) || 0));
    const start = page * pageSize;
    const found = live.slice(start, start + pageSize);
    const base = `${accountPath}/Messages/${messageSid}/Media.json?PageSize=${pageSize}`;
    return json(200, {
      media_list: found.map(mediaResource), start, end: start + Math.max(0, found.length - 1), page, page_size: pageSize,
      first_page_uri: `${base}&Page=0`, uri: `${base}&Page=${page}`,
      next_page_uri: start + pageSize < live.length ? `${base}&Page=${page + 1}` : null,
      previous_page_uri: page > 0 ? `${base}&Page=${page - 1}` : null,
    });
  }

  /** The short-lived, unauthenticated URL that Twilio's authenticated media URL redirects to. */
  function signedMediaPath(sid: string): string {
    const expires = now() + MEDIA_URL_TTL_MS;
    return `${basePath}/_media/${sid}?Expires=${expires}&Signature=${mediaSignature(sid, expires)}`;
  }
  const mediaSignature = (sid: string, expires: number) => createHmac('sha256', mediaUrlSecret).update(`${sid}:${expires}`).digest('hex');

  function serveSignedMedia(sid: string, query: URLSearchParams): Response {
    const expires = Number(query.get('Expires'));
    const given = Buffer.from(query.get('Signature') ?? '', 'hex');
    const wanted = Buffer.from(mediaSignature(sid, expires), 'hex');
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted) || now() > expires) return new Response('Access Denied', { status: 403 });
    const item = media.get(sid);
    return item ? bytesResponse(item.bytes, item.contentType) : new Response('Not Found', { status: 404 });
  }

  /** `…/Messages/{MM}/Media.json`, `…/Media/{ME}.json` (fetch, delete) and `…/Media/{ME}` (the file, by redirect). */
  function mediaApi(req: Request, messageSid: string, mediaSid: string | undefined, asJson: boolean, url: URL, notFound: () => Response): Response {
    if (!mediaOfMessage.has(messageSid)) return notFound();
    if (mediaSid === undefined) {
      if (!asJson) return notFound();
      return req.method === 'GET' ? listMedia(messageSid, url.searchParams) : twilioError(405, 20004, 'Method not allowed');
    }
    const item = media.get(mediaSid);
    if (!item || item.messageSid !== messageSid) return notFound();
    if (!asJson) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return twilioError(405, 20004, 'Method not allowed');
      return new Response(null, { status: 307, headers: { location: signedMediaPath(item.sid) } });
    }
    if (req.method === 'GET') return json(200, mediaResource(item));
    if (req.method === 'DELETE') {
      media.delete(item.sid);
      return new Response(null, { status: 204 });
    }
    return twilioError(405, 20004, 'Method not allowed');
  }

  const API_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages(?:\/([^/.]+)(\/Media(?:\/([^/.]+))?)?)?(\.json)?$/;

  async function api(req: Request, path: string, url: URL): Promise<Response> {
    if (!authorized(req)) return twilioError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });
    const notFound = () => twilioError(404, 20404, `The requested resource ${path} was not found`);
    const m = API_PATH.exec(path);
    // Valid credentials for another account's path: Twilio answers "not found".
    if (!m || m[1] !== opts.accountSid) return notFound();
    const [, , sid, mediaPart, mediaSid, dotJson] = m;
    if (mediaPart !== undefined) return mediaApi(req, sid!, mediaSid, dotJson !== undefined, url, notFound);
    if (dotJson === undefined) return notFound();
    if (sid === undefined) {
      if (req.method === 'POST') return createMessage(new URLSearchParams(await req.text()));
      if (req.method === 'GET') return listMessages(url.searchParams);
    } else if (req.method === 'GET') {
      const found = messages.get(sid);
      return found ? json(200, resource(found)) : notFound();
    }
    return twilioError(405, 20004, 'Method not allowed');
  }

  function takeFault(): Fault | undefined {
    const f = faults[0];
    if (!f) return undefined;
    if (--f.count <= 0) faults.shift();
    return f;
  }

  async function guardedApi(req: Request, path: string, url: URL, drop?: () => void): Promise<Response> {
    counters.requests++;
    const tooMany = () => {
      counters.tooManyRequests++;
      return twilioError(429, 20429, 'Too Many Requests');
    };
    if (inFlight >= maxConcurrent) return tooMany();
    inFlight++;
    try {
      const fault = takeFault();
      const dropConnection = () => {
        counters.dropped++;
        if (!drop) throw new Error('emulated connection drop (needs the listen() server)');
        drop();
      };
      if (fault?.kind === 'slow') await sleep(fault.delayMs);
      if (fault?.kind === '429') return tooMany();
      if (fault?.kind === '5xx') {
        const status = fault.status ?? 500;
        counters.serverErrors++;
        return twilioError(status, 20000 + status, status === 503 ? 'Service Unavailable' : 'Internal Server Error');
      }
      if (fault?.kind === 'drop-before') {
        dropConnection();
        return new Response(null, { status: 500 });
      }
      const res = await api(req, path, url);
      if (fault?.kind === 'drop-after') dropConnection();
      return res;
    } finally {
      inFlight--;
    }
  }

  /** The control view of a message: media with a control-API URL the playground can show without credentials. */
  function controlView(m: StoredMessage) {
    const view = snapshot(m);
    return { ...view, media: view.media.map((x) => ({ ...x, url: `${basePath}/_control/media/${x.sid}` })) };
  }

  /** A file the user sends from the playground: multipart `file` plus the user-message route's text fields. */
  async function uploadedMessage(req: Request): Promise<UserMessage | string> {
    const form = await req.formData().catch(() => undefined);
    if (!form) return 'expected multipart/form-data';
    const file = form.get('file');
    if (!(file instanceof Blob)) return 'the file field must be a file';
    const text = (name: string) => {
      const v = form.get(name);
      return typeof v === 'string' && v !== '' ? v : undefined;
    };
    return {
      body: text('body'), buttonPayload: text('buttonPayload'), buttonText: text('buttonText'), profileName: text('profileName'),
      media: [{ contentType: file.type || 'application/octet-stream', bytes: new Uint8Array(await file.arrayBuffer()) }],
    };
  }

  // Playground control API: loopback-only developer tool, deliberately unauthenticated.
  async function control(req: Request, rest: string, url: URL): Promise<Response> {
    if (rest === '/stats' && req.method === 'GET') return json(200, counters);
    const file = /^\/media\/([^/]+)$/.exec(rest);
    if (file && req.method === 'GET') {
      const item = media.get(file[1]!);
      return item ? bytesResponse(item.bytes, item.contentType) : json(404, { error: 'no such media' });
    }
    const m = /^\/users\/([^/]+)\/(messages|media|opt-out|read)$/.exec(rest);
    if (!m) return json(404, { error: 'not found' });
    const user = waAddress(decodeURIComponent(m[1]!));
    if (!WA_ADDRESS.test(user)) return json(400, { error: `invalid number ${user}` });
    const action = m[2];
    if (req.method === 'POST' && (action === 'opt-out' || action === 'read')) {
      if (action === 'opt-out') optOut(user);
      else markRead(user);
      return json(200, { ok: true });
    }
    if (req.method === 'POST' && action === 'messages') {
      if (!webhookUrl) return json(409, { error: 'no incoming webhook URL configured' });
      const body = (await req.json().catch(() => ({}))) as UserMessage;
      const sent = await userSends(user, body);
      return json(200, { messageSid: sent.messageSid, webhookStatus: sent.status });
    }
    if (req.method === 'POST' && action === 'media') {
      if (!webhookUrl) return json(409, { error: 'no incoming webhook URL configured' });
      const upload = await uploadedMessage(req);
      if (typeof upload === 'string') return json(400, { error: upload });
      const sent = await userSends(user, upload);
      return json(200, { messageSid: sent.messageSid, webhookStatus: sent.status });
    }
    if (req.method === 'GET' && action === 'messages') {
      const after = Number(url.searchParams.get('after')) || 0;
      const waitS = Math.min(25, Math.max(0, Number(url.searchParams.get('wait')) || 0));
      const newer = () => (byUser.get(user) ?? []).filter((x) => x.seq > after);
      if (waitS > 0) await waitUntil(() => newer().length > 0, waitS * 1000);
      return json(200, { messages: newer().map(controlView), cursor: seq });
    }
    return json(405, { error: 'method not allowed' });
  }

  async function route(req: Request, info: RequestInfo): Promise<Response> {
    const drop = info.dropConnection;
    const url = new URL(req.url);
    if (!url.pathname.startsWith(basePath + '/') && basePath) return json(404, { error: 'not found' });
    const path = url.pathname.slice(basePath.length);
    const host = req.headers.get('host');
    if (host) observedBase ??= `http://${host}${basePath}`;
    if (path.startsWith('/_control/')) return control(req, path.slice('/_control'.length), url);
    const signed = /^\/_media\/([^/]+)$/.exec(path);
    if (signed && (req.method === 'GET' || req.method === 'HEAD')) return serveSignedMedia(signed[1]!, url.searchParams);
    if (path.startsWith(`/${API_VERSION}/`)) return guardedApi(req, path, url, drop);
    return json(404, { error: 'not found' });
  }

  async function userSends(from: string, msg: UserMessage, to = opts.senders[0]!) {
    if (!webhookUrl) throw new Error('no incoming webhook URL configured');
    const user = waAddress(from);
    if (!WA_ADDRESS.test(user)) throw new Error(`invalid WhatsApp address ${from}`);
    const items = msg.media ?? [];
    const sid = newSid(items.length ? 'MM' : 'SM');
    lastInbound.set(user, now());
    const kind = (ct: string) => (/^(image|video|audio)\//.exec(ct)?.[1] ?? 'document');
    const params: Record<string, string> = {
      MessageSid: sid, SmsMessageSid: sid, SmsSid: sid, AccountSid: opts.accountSid, From: user, To: to,
      Body: msg.body ?? msg.buttonText ?? '', NumMedia: String(items.length), NumSegments: '1', ReferralNumMedia: '0',
      ProfileName: msg.profileName ?? 'WhatsApp User', WaId: user.replace(/\D/g, ''), SmsStatus: 'received',
      ApiVersion: API_VERSION,
      MessageType: msg.buttonPayload ? 'button' : items[0] ? kind(items[0].contentType) : 'text',
    };
    mediaOfMessage.set(sid, []);
    items.forEach((item, i) => {
      const stored = storeMedia(sid, item.contentType, new Uint8Array(item.bytes ?? new TextEncoder().encode(`media ${i} of ${sid}`)));
      params[`MediaUrl${i}`] = `${publicBase()}${accountPath}/Messages/${sid}/Media/${stored.sid}`;
      params[`MediaContentType${i}`] = item.contentType;
    });
    if (msg.buttonPayload) {
      params.ButtonPayload = msg.buttonPayload;
      params.ButtonText = msg.buttonText ?? msg.body ?? '';
    }
    return { messageSid: sid, status: await postSigned(webhookUrl, params) };
  }

  function optOut(number: string) {
    optedOut.add(waAddress(number));
  }

  function markRead(number: string) {
    for (const m of byUser.get(waAddress(number)) ?? []) {
      if (m.status === 'delivered') setStatus(m, 'read');
      else if (m.status === 'queued' || m.status === 'sent') m.readOnDelivery = true;
    }
  }

  const busy = () =>
    timers.size > 0 || callbacksInFlight > 0 || mediaFetchesInFlight > 0 || [...queues.values()].some((q) => q.pending.length > 0);

  return {
    handle: (req, info) => route(req, info),
    async listen(port = 0) {
      const served = await serveFetch(route, { port });
      servers.add(served);
      const apiBase = `${served.url}${basePath}`;
      listenedBase ??= apiBase;
      return {
        apiBase,
        close: async () => {
          if (servers.delete(served)) await served.close();
        },
      };
    },
    setIncomingWebhookUrl(url) {
      webhookUrl = url;
    },
    addTemplate(contentSid, body) {
      templates.set(contentSid, body);
    },
    userSends,
    optOut,
    optIn(number) {
      optedOut.delete(waAddress(number));
    },
    markRead,
    setMessageStatus(sid, status, errorCode) {
      const m = messages.get(sid);
      if (!m) throw new Error(`unknown message ${sid}`);
      setStatus(m, status, errorCode ?? null);
    },
    messagesTo: (number) => (byUser.get(waAddress(number)) ?? []).map(snapshot),
    message(sid) {
      const m = messages.get(sid);
      return m && snapshot(m);
    },
    mediaContent(mediaSid) {
      const item = media.get(mediaSid);
      return item && new Uint8Array(item.bytes);
    },
    inject(fault) {
      faults.push({ ...fault });
    },
    clearFaults() {
      faults = [];
    },
    stats: () => ({ ...counters }),
    async waitForMessages(number, count, timeoutMs = 5_000) {
      const user = waAddress(number);
      const ok = await waitUntil(() => (byUser.get(user)?.length ?? 0) >= count, timeoutMs);
      if (!ok) throw new Error(`timed out waiting for ${count} messages to ${user} (have ${byUser.get(user)?.length ?? 0})`);
      return (byUser.get(user) ?? []).map(snapshot);
    },
    async settle() {
      while (busy() && !closed) await sleep(5);
    },
    async close() {
      closed = true;
      closing.abort();
      timers.forEach(clearTimeout);
      timers.clear();
      notify();
      const open = [...servers];
      servers.clear();
      await Promise.all(open.map((served) => served.close()));
    },
  };
}
