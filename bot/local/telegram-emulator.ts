/**
 * A local stand-in for the Telegram Bot API: the methods this project's bots call, private chats with emulated
 * users, long polling and webhook delivery, flood limits, fault injection, files with their bytes, and a small JSON
 * control API for the browser playground.
 *
 * Timing: `now()` drives message dates, flood windows and callback-query expiry; long polls, webhook retries and
 * `slow` faults use real timers, because they model waiting rather than calendar time.
 *
 * Drops destroy the socket through `info.dropConnection`, which the Node adapter provides (listen() and the
 * server alike). A host without it gets a Response whose body stream errors, so it aborts mid-response.
 *
 * Files: what the bot uploads (multipart, `attach://` or a direct field, as grammY sends an InputFile), what it has
 * Telegram fetch from an http(s) URL and what users send keep their bytes. A file_id belongs to one bot and sends
 * the same file again without upload; file_unique_id belongs to the file. getFile and
 * `${basePath}/file/bot<token>/<file_path>` give the bytes back. Limits are the Bot API's ("Sending files", getFile):
 * uploads 10 MB for photos and 50 MB otherwise, URLs 5 MB and 20 MB, downloads 20 MB (MB = 2^20 bytes, as the
 * Bot API server counts).
 *
 * Known simplifications: webhook URLs may be plain http (everything is on loopback); Markdown parse modes are
 * accepted but not parsed; private chats only. Media are not decoded: a photo keeps the bytes it came with (Telegram
 * re-encodes it as JPEG) and all its sizes share them, its dimensions read from a PNG, GIF or JPEG header (else
 * 1280×960); durations and video dimensions are what the sender states (else 0); a URL is fetched on every send
 * (Telegram caches it for days); what a user sends is limited only by the body cap of listen() (51 MB) or, mounted
 * in another server, by that server's.
 */
import { randomBytes } from 'node:crypto';
import type {
  BotCommand,
  File as TelegramFile,
  ForceReply,
  InlineKeyboardMarkup,
  Message,
  MessageEntity,
  ReplyKeyboardMarkup,
  ReplyKeyboardRemove,
  Update,
  User,
  UserFromGetMe,
} from 'grammy/types';
import { serveFetch, type FetchHandler, type RequestInfo, type ServedHandler } from '../http/node-adapter';

export interface TelegramEmulatorOptions {
  /** ms since epoch; default Date.now */
  now?: () => number;
  /** path prefix when mounted inside another server, e.g. '/_emulator/telegram' */
  basePath?: string;
  /** flood limits per bot over a sliding second; default 30 overall and 1 per chat (Bot FAQ) */
  limits?: { globalPerSecond: number; perChatPerSecond: number };
  /** pause before redelivering an update the webhook did not accept; default 1000 */
  webhookRetryDelayMs?: number;
}

export type BotUser = UserFromGetMe;

export interface EmulatedUser {
  id: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

/** A bot message as the chat shows it now (edits applied); `reply_keyboard` is a non-inline keyboard Telegram does not echo back. */
export type SentMessage = Message & { reply_keyboard?: ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply };

export type Fault =
  | { kind: '429'; count: number; retryAfter?: number; methods?: string[] }
  | { kind: '5xx'; count: number; status?: number; methods?: string[] }
  | { kind: 'slow'; count: number; delayMs: number; methods?: string[] }
  | { kind: 'drop-before'; count: number; methods?: string[] }
  | { kind: 'drop-after'; count: number; methods?: string[] };

export type TelegramMediaKind = 'photo' | 'voice' | 'audio' | 'document' | 'video';

/** A file a user sends; `mimeType` defaults by the file name, then by kind (a document's by its bytes). */
export interface UserMedia {
  kind: TelegramMediaKind;
  bytes: Uint8Array;
  mimeType?: string;
  fileName?: string;
  /** seconds, for voice, audio and video */
  duration?: number;
  caption?: string;
}

/** A message's file as the control API shows it; `url` (basePath included) serves its bytes. */
export interface ControlMedia {
  kind: TelegramMediaKind;
  mimeType: string;
  fileName?: string;
  size: number;
  url: string;
}

export interface EmulatorStats {
  requests: number;
  byMethod: Record<string, number>;
  tooManyRequests: number;
  serverErrors: number;
  dropped: number;
}

export interface TelegramEmulator {
  /** Bot API at `${basePath}/bot<token>/<method>`, control API at `${basePath}/_control/...` */
  handle: FetchHandler;
  /** Serves `handle` on 127.0.0.1 (port 0 = any); apiRoot includes basePath, no trailing slash. */
  listen(port?: number): Promise<{ apiRoot: string; close(): Promise<void> }>;
  addBot(token: string, info?: { username?: string; firstName?: string }): BotUser;
  /** a text, or with `voice` a voice note whose caption is `text` (Bot API: voice + caption, no text) */
  userSends(token: string, user: EmulatedUser, text: string, voice?: { duration: number }): Update;
  /** a photo, voice note, audio, document or video with its bytes, shaped as the Bot API delivers it (`caption`, no `text`) */
  userSendsMedia(token: string, user: EmulatedUser, media: UserMedia): Update;
  /** the bytes behind one of this bot's file_ids (not a copy) */
  file(token: string, fileId: string): { bytes: Uint8Array; mimeType: string; fileName?: string } | undefined;
  userPresses(token: string, userId: number, messageId: number, data: string): Update;
  blockBot(token: string, userId: number): void;
  deactivateUser(userId: number): void;
  chat(token: string, chatId: number): SentMessage[];
  callbackAnswers(token: string): { callbackQueryId: string; text?: string; showAlert?: boolean }[];
  webhookInfo(token: string): { url: string; secretToken?: string; pendingUpdateCount: number; lastErrorMessage?: string };
  inject(fault: Fault): void;
  clearFaults(): void;
  stats(): EmulatorStats;
  waitForMessages(token: string, chatId: number, count: number, timeoutMs?: number): Promise<SentMessage[]>;
  /** Stops webhook delivery, ends pending long polls and closes the listen() servers. */
  close(): Promise<void>;
}

type Params = Record<string, unknown>;
interface Upload {
  filename: string;
  data: Uint8Array;
  /** the part's own content-type, when it says more than application/octet-stream */
  type?: string;
}
/** A file's bytes, shared by every bot that sees it; each size of a photo is a file of its own. */
interface StoredFile {
  uniqueId: string;
  bytes: Uint8Array;
  mimeType: string;
  fileName?: string;
  duration?: number;
  width?: number;
  height?: number;
  /** for a photo: all its sizes, smallest first, this one among them */
  sizes?: StoredFile[];
}
/** One bot's view of files: its own file_ids and the file_paths getFile gave out. */
interface BotFiles {
  byId: Map<string, { file: StoredFile; kind: TelegramMediaKind }>;
  idOf: Map<StoredFile, string>;
  byPath: Map<string, StoredFile>;
  pathOf: Map<StoredFile, string>;
}
interface UserState extends EmulatedUser {
  firstName: string;
  deactivated: boolean;
}
interface Stored {
  message: SentMessage;
  fromBot: boolean;
  deleted: boolean;
  /** the chat's change counter at this message's last change (the control API's cursor) */
  version: number;
}
interface ChatState {
  userId: number;
  nextMessageId: number;
  messages: Map<number, Stored>;
  blocked: boolean;
  version: number;
  sends: number[];
}
interface Poller {
  wake(reason: 'update' | 'timeout' | 'conflict' | 'webhook' | 'closed'): void;
}
interface BotState {
  token: string;
  me: BotUser;
  chats: Map<number, ChatState>;
  queue: Update[];
  nextUpdateId: number;
  sends: number[];
  allowedUpdates?: string[];
  webhook?: { url: string; secretToken?: string; maxConnections: number };
  lastError?: { date: number; message: string };
  delivering: boolean;
  retryTimer?: ReturnType<typeof setTimeout>;
  poller?: Poller;
  queries: Map<string, { at: number; answered: boolean }>;
  answers: { callbackQueryId: string; text?: string; showAlert?: boolean }[];
  commands: Map<string, BotCommand[]>;
  files: BotFiles;
  listeners: Set<() => void>;
}

class ApiError extends Error {
  constructor(readonly code: number, readonly description: string, readonly parameters?: { retry_after: number }) {
    super(description);
  }
}
const bad = (what: string) => new ApiError(400, `Bad Request: ${what}`);
const tooMany = (retryAfter: number) =>
  new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });

const TOKEN = /^(\d+):[A-Za-z0-9_-]+$/;
const SECRET = /^[A-Za-z0-9_-]{1,256}$/;
const MAX_TEXT = 4096;
const MAX_CAPTION = 1024;
// Undocumented; answers later than this are commonly reported as "query is too old".
const CALLBACK_QUERY_TTL_MS = 15_000;
const CONTROL_MAX_WAIT_S = 25;
const WEBHOOK_TIMEOUT_MS = 60_000;
const FIRST_UPDATE_ID = 100_000_001;
const QUERY_TOO_OLD = 'query is too old and response timeout expired or query ID is invalid';
const NOT_MODIFIED =
  'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';
const CHAT_ACTIONS = new Set(['typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice', 'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note']);
const MIME: Record<string, string> = {
  pdf: 'application/pdf', csv: 'text/csv', txt: 'text/plain', json: 'application/json', zip: 'application/zip',
  doc: 'application/msword', docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic',
  ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg', mp3: 'audio/mpeg', m4a: 'audio/mp4', wav: 'audio/wav', amr: 'audio/amr',
  mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', '3gp': 'video/3gpp',
};
/** The extension of a getFile path; Telegram names voice notes .oga. */
const EXTENSION: Record<string, string> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'audio/ogg': 'oga', 'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a', 'audio/wav': 'wav', 'video/mp4': 'mp4', 'application/pdf': 'pdf', 'application/zip': 'zip', 'text/plain': 'txt',
};
const MEDIA_KINDS: readonly TelegramMediaKind[] = ['photo', 'voice', 'audio', 'document', 'video'];
const MB = 1024 * 1024;
/** Bot API "Sending files" and getFile; MB as tdlib's telegram-bot-api counts it (MAX_DOWNLOAD_FILE_SIZE = 20 << 20). */
const LIMITS = { uploadPhoto: 10 * MB, upload: 50 * MB, urlPhoto: 5 * MB, url: 20 * MB, urlVoice: 1 * MB, download: 20 * MB };
/** listen()'s body cap: the largest upload plus room for the other form fields */
const MAX_REQUEST_BYTES = LIMITS.upload + MB;
const URL_FETCH_TIMEOUT_MS = 15_000;
/** tdlib's telegram-bot-api clamps durations to a day and photo sides to 10000 */
const MAX_DURATION_S = 24 * 60 * 60;
const MAX_PHOTO_SIDES = 10_000;
const PHOTO_SIDES = [90, 320, 800, 1280, 2560];
const FILE_ID_PREFIX: Record<TelegramMediaKind, string> = { photo: 'AgACAgIAAxkBAAI', voice: 'AwACAgIAAxkBAAI', audio: 'CQACAgIAAxkBAAI', document: 'BQACAgIAAxkBAAI', video: 'BAACAgIAAxkBAAI' };
const FILE_FOLDER: Record<TelegramMediaKind, string> = { photo: 'photos', voice: 'voice', audio: 'music', document: 'documents', video: 'videos' };
/** What the Bot API shows as a voice note (OGG/Opus, MP3, M4A), an audio (MP3, M4A) or a video (MPEG4); any other format arrives as a document. */
const SHOWN_AS: Partial<Record<TelegramMediaKind, Set<string>>> = {
  voice: new Set(['audio/ogg', 'audio/opus', 'audio/mpeg', 'audio/mp3', 'audio/mp4', 'audio/x-m4a', 'audio/m4a']),
  audio: new Set(['audio/mpeg', 'audio/mp3', 'audio/mp4', 'audio/x-m4a', 'audio/m4a']),
  video: new Set(['video/mp4']),
};
/** "In sendDocument, sending by URL will currently only work for GIF, PDF and ZIP files." (Bot API "Sending files") */
const DOCUMENT_URL_TYPES = new Set(['image/gif', 'application/pdf', 'application/zip']);
const DEFAULT_TYPE: Record<TelegramMediaKind, string> = { photo: 'image/jpeg', voice: 'audio/ogg', audio: 'audio/mpeg', video: 'video/mp4', document: 'application/octet-stream' };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const clone = <T>(v: T): T => structuredClone(v);
const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');
const codePoints = (s: string) => [...s].length;
const newFileId = (kind: TelegramMediaKind) => FILE_ID_PREFIX[kind] + randomBytes(24).toString('base64url');
const newUniqueId = () => 'AgAD' + randomBytes(8).toString('base64url');
/** listen() hands the request body over here, so a 50 MB upload is not copied once more into the Request */
const bodyOf = async (req: Request): Promise<Buffer> => Buffer.from(await req.arrayBuffer());

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
function apiFailure(err: ApiError): Response {
  const body = { ok: false, error_code: err.code, description: err.description, ...(err.parameters ? { parameters: err.parameters } : {}) };
  return json(err.code, body);
}
/** For Fetch-style hosts: headers go out, then the body stream fails, so the client sees a broken connection. */
function brokenResponse(): Response {
  const body = new ReadableStream({ pull: (c) => c.error(new Error('connection dropped by the Telegram emulator')) });
  return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
}

const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : undefined;
const bool = (v: unknown) => v === true || v === 'true' || v === 1 || v === '1';
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
/** Query-string and form fields carry objects as JSON text. */
function object(v: unknown, what: string): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw bad(`can't parse ${what} JSON object`);
  }
}

// ---- Telegram HTML parse mode ----

const HTML_ENTITY_TYPES: Record<string, MessageEntity['type']> = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline', s: 'strikethrough',
  strike: 'strikethrough', del: 'strikethrough', span: 'spoiler', 'tg-spoiler': 'spoiler', a: 'text_link',
  code: 'code', pre: 'pre', blockquote: 'blockquote', 'tg-emoji': 'custom_emoji',
};
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Telegram's HTML subset → plain text + entities (UTF-16 offsets); errors read like the Bot API's. */
export function parseTelegramHtml(html: string): { text: string; entities: MessageEntity[] } {
  const fail = (why: string) => bad(`can't parse entities: ${why}`);
  const byteOffset = (i: number) => utf8Length(html.slice(0, i));
  const stack: { tag: string; start: number; attrs: Record<string, string>; language?: string }[] = [];
  const entities: MessageEntity[] = [];
  let text = '';
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === '&') {
      const m = /^&(?:([a-z]+)|#(\d{1,7})|#x([0-9a-f]{1,6}));/i.exec(html.slice(i, i + 12));
      const code = m?.[2] ? Number(m[2]) : m?.[3] ? parseInt(m[3], 16) : undefined;
      const decoded = m?.[1] ? NAMED_ENTITIES[m[1].toLowerCase()] : code !== undefined && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : undefined;
      if (m && decoded !== undefined) {
        text += decoded;
        i += m[0].length;
      } else {
        text += c; // Telegram keeps an unknown entity literally
        i++;
      }
      continue;
    }
    if (c !== '<') {
      text += c;
      i++;
      continue;
    }
    const begin = i;
    if (html[i + 1] === '/') {
      const close = html.indexOf('>', i);
      if (close < 0) throw fail(`Unclosed end tag at byte offset ${byteOffset(begin)}`);
      const name = html.slice(i + 2, close).trim().toLowerCase();
      const open = stack.pop();
      if (!open) throw fail(`Unexpected end tag at byte offset ${byteOffset(begin)}`);
      if (name !== open.tag) throw fail(`Unmatched end tag at byte offset ${byteOffset(begin)}, expected "</${open.tag}>", found "</${name}>"`);
      i = close + 1;
      const length = text.length - open.start;
      const parent = stack.at(-1);
      const language = /^language-(.+)$/.exec(open.attrs.class ?? '')?.[1];
      if (open.tag === 'code' && parent?.tag === 'pre' && language && parent.start === open.start) {
        parent.language = language; // <pre><code class="language-x"> is one pre entity
        continue;
      }
      if (length === 0) continue;
      const base = { offset: open.start, length };
      const type = HTML_ENTITY_TYPES[open.tag]!;
      if (type === 'text_link') {
        if (open.attrs.href) entities.push({ ...base, type, url: open.attrs.href });
      } else if (type === 'pre') entities.push({ ...base, type, ...(open.language ? { language: open.language } : {}) });
      else if (type === 'custom_emoji') entities.push({ ...base, type, custom_emoji_id: open.attrs['emoji-id'] ?? '' });
      else if (type === 'blockquote' && 'expandable' in open.attrs) entities.push({ ...base, type: 'expandable_blockquote' });
      else entities.push({ ...base, type } as MessageEntity);
      continue;
    }
    let j = i + 1;
    while (j < html.length && !/[\s>/]/.test(html[j]!)) j++;
    const tag = html.slice(i + 1, j).toLowerCase();
    if (!(tag in HTML_ENTITY_TYPES)) throw fail(`Unsupported start tag "${tag}" at byte offset ${byteOffset(begin)}`);
    const attrs: Record<string, string> = {};
    for (;;) {
      while (j < html.length && /[\s/]/.test(html[j]!)) j++;
      if (j >= html.length) throw fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      if (html[j] === '>') break;
      const am = /^([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/.exec(html.slice(j));
      if (!am) throw fail(`Unclosed start tag at byte offset ${byteOffset(begin)}`);
      attrs[am[1]!.toLowerCase()] = am[2] ?? am[3] ?? am[4] ?? '';
      j += am[0].length;
    }
    if (tag === 'span' && attrs.class !== 'tg-spoiler') throw fail(`Tag "span" must have class "tg-spoiler" at byte offset ${byteOffset(begin)}`);
    stack.push({ tag, start: text.length, attrs });
    i = j + 1;
  }
  const unclosed = stack.at(-1);
  if (unclosed) throw fail(`Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

/** grammY writes `content-disposition:form-data;name="x";filename=y` (no spaces, unquoted filename), which undici rejects. */
function parseMultipart(body: Buffer, boundary: string): Params {
  const out: Params = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    if (body[start] === 13 && body[start + 1] === 10) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const end = body[next - 2] === 13 && body[next - 1] === 10 ? next - 2 : next;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const head = part.subarray(0, headerEnd).toString('utf8');
      const name = /[;\s:]name=(?:"([^"]*)"|([^;\r\n]*))/i.exec(head);
      const filename = /filename=(?:"([^"]*)"|([^;\r\n]*))/i.exec(head);
      const type = bareType(/(?:^|\r\n)content-type:\s*([^\r\n]*)/i.exec(head)?.[1]);
      const content = part.subarray(headerEnd + 4);
      const key = name?.[1] ?? name?.[2];
      const uploadName = filename ? (filename[1] ?? filename[2] ?? '').trim() : undefined;
      // a view into the body, not a copy: the body is read once per request and kept by nothing else
      const data = new Uint8Array(content.buffer, content.byteOffset, content.length);
      const stated = type && type !== 'application/octet-stream' ? { type } : {};
      if (key) out[key] = uploadName === undefined ? content.toString('utf8') : ({ filename: uploadName, data, ...stated } satisfies Upload);
    }
    pos = next;
  }
  return out;
}

async function readParams(req: Request, url: URL): Promise<Params> {
  const params: Params = Object.fromEntries(url.searchParams);
  if (req.method === 'GET' || req.method === 'HEAD') return params;
  const type = req.headers.get('content-type') ?? '';
  const body = await bodyOf(req);
  if (body.length === 0) return params;
  if (type.includes('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw bad("can't parse JSON object");
    }
    return { ...params, ...(parsed as Params) };
  }
  if (type.includes('application/x-www-form-urlencoded')) return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString('utf8'))) };
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (type.includes('multipart/form-data') && boundary) return { ...params, ...parseMultipart(body, boundary[1] ?? boundary[2]!) };
  return params;
}

// ---- files: what the bytes are, photo sizes, answers with bytes ----

const latin1 = (b: Uint8Array, from: number, to: number) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1', from, Math.min(to, b.length));

/** The type a file's first bytes show, for the formats mothers and tutors send. */
function sniff(b: Uint8Array): string | undefined {
  const at = (from: number, to: number) => latin1(b, from, to);
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (at(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (at(0, 4) === 'GIF8') return 'image/gif';
  if (at(0, 4) === 'RIFF') return at(8, 12) === 'WEBP' ? 'image/webp' : at(8, 12) === 'WAVE' ? 'audio/wav' : undefined;
  if (at(0, 4) === 'OggS') return 'audio/ogg';
  if (at(0, 3) === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0)) return 'audio/mpeg';
  if (at(4, 8) === 'ftyp') return at(8, 11) === 'M4A' ? 'audio/mp4' : 'video/mp4';
  if (at(0, 5) === '%PDF-') return 'application/pdf';
  if (at(0, 4) === 'PK\x03\x04') return 'application/zip';
  return undefined;
}

const extensionOf = (name: string | undefined) => /\.([a-z0-9]+)$/i.exec(name ?? '')?.[1]?.toLowerCase() ?? '';
const bareType = (type: string | null | undefined) => type?.split(';')[0]!.trim().toLowerCase() || undefined;
const isImage = (mimeType: string, bytes: Uint8Array) => mimeType.startsWith('image/') || Boolean(sniff(bytes)?.startsWith('image/'));

/** A stated type wins, then the file name's extension, then the bytes (grammY states application/octet-stream for every file). */
function mimeOf(bytes: Uint8Array, fileName?: string, stated?: string): string {
  const type = bareType(stated);
  if (type && type !== 'application/octet-stream') return type;
  return MIME[extensionOf(fileName)] ?? sniff(bytes) ?? 'application/octet-stream';
}

/** Width and height from a PNG, GIF or JPEG header. */
function imageSize(b: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = sniff(b);
  if (type === 'image/png' && b.length >= 24) return { width: view.getUint32(16), height: view.getUint32(20) };
  if (type === 'image/gif' && b.length >= 10) return { width: view.getUint16(6, true), height: view.getUint16(8, true) };
  if (type !== 'image/jpeg') return undefined;
  for (let i = 2; i + 9 < b.length && b[i] === 0xff; i += 2 + view.getUint16(i + 2)) {
    const marker = b[i + 1]!;
    // SOF0…SOF15 carry the frame size; C4, C8 and CC are other segments in that range
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) return { width: view.getUint16(i + 7), height: view.getUint16(i + 5) };
  }
  return undefined;
}

/** Telegram's sizes of a photo up to its own (at most 2560 on the longest side), smallest first. */
function photoDimensions(width: number, height: number): { width: number; height: number }[] {
  const longest = Math.max(width, height);
  const scaled = (side: number) => ({ width: Math.max(1, Math.round((width * side) / longest)), height: Math.max(1, Math.round((height * side) / longest)) });
  const largest = longest > 2560 ? scaled(2560) : { width, height };
  return [...PHOTO_SIDES.filter((side) => side < Math.min(longest, 2560)).map(scaled), largest];
}

/** One file per size, all sharing the photo's bytes; the largest size stands for the photo. */
function photoFile(bytes: Uint8Array, mimeType: string): StoredFile {
  const { width, height } = imageSize(bytes) ?? { width: 1280, height: 960 };
  const sizes: StoredFile[] = [];
  for (const d of photoDimensions(width || 1, height || 1)) sizes.push({ uniqueId: newUniqueId(), bytes, mimeType, ...d, sizes });
  return sizes.at(-1)!;
}

/** The Bot API's photo rule: "width and height must not exceed 10000 in total; ratio at most 20". */
function checkPhotoDimensions(bytes: Uint8Array) {
  const size = imageSize(bytes);
  if (!size) return;
  const { width, height } = size;
  if (!width || !height || width + height > MAX_PHOTO_SIDES || Math.max(width / height, height / width) > 20) throw bad('PHOTO_INVALID_DIMENSIONS');
}

/** Ogg's page checksum: CRC-32, polynomial 0x04c11db7, no reflection, computed with the checksum field zeroed. */
function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** One Ogg page holding an OpusHead (mono, 48 kHz): a voice note's valid first page, and no sound. */
export function oggVoiceBytes(): Uint8Array {
  const head = Buffer.concat([Buffer.from('OpusHead', 'latin1'), Buffer.from([1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0])]);
  const page = Buffer.alloc(28 + head.length);
  page.write('OggS', 0, 'latin1');
  page[5] = 0x02; // first page of the stream
  page.writeUInt32LE(1, 14); // stream serial number
  page[26] = 1; // one segment…
  page[27] = head.length; // …of 19 bytes
  head.copy(page, 28);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const isUpload = (v: unknown): v is Upload => typeof v === 'object' && v !== null && (v as Upload).data instanceof Uint8Array;

/** The bytes as a stream of views (no copy), with their type and length. */
function fileResponse(file: Pick<StoredFile, 'bytes' | 'mimeType'>, method: string): Response {
  const { bytes } = file;
  let offset = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(offset, (offset += 256 * 1024)));
    },
  });
  const headers = { 'content-type': file.mimeType, 'content-length': String(bytes.length) };
  return new Response(method === 'HEAD' ? null : body, { status: 200, headers });
}

export function createTelegramEmulator(opts: TelegramEmulatorOptions = {}): TelegramEmulator {
  const now = opts.now ?? Date.now;
  const basePath = (opts.basePath ?? '').replace(/\/$/, '');
  const limits = opts.limits ?? { globalPerSecond: 30, perChatPerSecond: 1 };
  const retryDelay = opts.webhookRetryDelayMs ?? 1000;
  const bots = new Map<string, BotState>();
  const users = new Map<number, UserState>();
  const faults: Fault[] = [];
  const counters: EmulatorStats = { requests: 0, byMethod: {}, tooManyRequests: 0, serverErrors: 0, dropped: 0 };
  const servers = new Set<ServedHandler>();
  const closer = new AbortController();
  let callbackSeq = 0;
  const seconds = () => Math.floor(now() / 1000);

  function botOf(token: string): BotState {
    const bot = bots.get(token);
    if (!bot) throw new Error(`unknown bot token ${token}`);
    return bot;
  }
  const notify = (bot: BotState) => bot.listeners.forEach((l) => l());
  const userObject = (u: UserState): User => ({
    id: u.id, is_bot: false, first_name: u.firstName,
    ...(u.lastName ? { last_name: u.lastName } : {}),
    ...(u.username ? { username: u.username } : {}),
    language_code: u.languageCode ?? 'en',
  });
  const chatObject = (u: UserState): Message['chat'] => ({
    id: u.id, type: 'private', first_name: u.firstName,
    ...(u.lastName ? { last_name: u.lastName } : {}),
    ...(u.username ? { username: u.username } : {}),
  });
  const botAsSender = (bot: BotState): User => ({ id: bot.me.id, is_bot: true, first_name: bot.me.first_name, username: bot.me.username });

  // ---- updates: getUpdates queue, long polls, webhook delivery ----

  function pushUpdate(bot: BotState, body: Omit<Update, 'update_id'>): Update {
    const update = { update_id: bot.nextUpdateId++, ...body } as Update;
    const kind = Object.keys(body)[0]!;
    if (bot.allowedUpdates?.length && !bot.allowedUpdates.includes(kind)) return clone(update);
    bot.queue.push(update);
    bot.poller?.wake('update');
    void pump(bot);
    return clone(update);
  }

  function confirm(bot: BotState, offset: number | undefined) {
    if (offset === undefined || offset === 0) return;
    if (offset < 0) bot.queue.splice(0, Math.max(0, bot.queue.length + offset));
    else bot.queue = bot.queue.filter((u) => u.update_id >= offset);
  }

  function describeNetworkError(err: unknown): string {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED') return 'Connection refused';
    if ((err as Error).name === 'TimeoutError') return 'Read timeout expired';
    return cause?.message ?? (err as Error).message;
  }

  /** One update at a time, in order; a failure keeps it at the head and retries after the delay. */
  async function pump(bot: BotState): Promise<void> {
    const hook = bot.webhook;
    const update = bot.queue[0];
    if (!hook || !update || bot.delivering || bot.retryTimer || closer.signal.aborted) return;
    bot.delivering = true;
    let error: string | undefined;
    let reply: unknown;
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(hook.secretToken ? { 'x-telegram-bot-api-secret-token': hook.secretToken } : {}) },
        body: JSON.stringify(update),
        signal: AbortSignal.any([closer.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]),
      });
      const text = await res.text();
      if (!res.ok) error = `Wrong response from the webhook: ${res.status} ${res.statusText}`.trim();
      else if ((res.headers.get('content-type') ?? '').includes('application/json')) reply = JSON.parse(text || 'null');
    } catch (err) {
      error = describeNetworkError(err);
    }
    bot.delivering = false;
    if (closer.signal.aborted) return;
    if (error !== undefined) {
      bot.lastError = { date: seconds(), message: error };
      bot.retryTimer = setTimeout(() => {
        bot.retryTimer = undefined;
        void pump(bot);
      }, retryDelay);
      return;
    }
    if (bot.queue[0] === update) bot.queue.shift();
    // A webhook may answer with one method call of its own (Bot API "making requests when getting updates").
    const call = reply as { method?: unknown } | null;
    if (call && typeof call.method === 'string') {
      const method = methods[call.method.toLowerCase()];
      if (method) await Promise.resolve(method.run(bot, call as Params)).catch(() => undefined);
    }
    void pump(bot);
  }

  // ---- sending: target chat, flood limits, stored messages ----

  function targetChat(bot: BotState, p: Params): ChatState {
    if (p.chat_id === undefined || p.chat_id === '') throw bad('chat_id is empty');
    const id = int(p.chat_id);
    const chat = id === undefined ? undefined : bot.chats.get(id);
    if (!chat) throw bad('chat not found');
    if (users.get(chat.userId)?.deactivated) throw new ApiError(403, 'Forbidden: user is deactivated');
    if (chat.blocked) throw new ApiError(403, 'Forbidden: bot was blocked by the user');
    return chat;
  }

  /** Sliding one-second windows per chat and per bot; the answer says when the oldest send leaves the window. */
  function throttle(bot: BotState, chat: ChatState) {
    const t = now();
    for (const list of [bot.sends, chat.sends]) while (list.length && list[0]! <= t - 1000) list.shift();
    const over = chat.sends.length >= limits.perChatPerSecond ? chat.sends : bot.sends.length >= limits.globalPerSecond ? bot.sends : undefined;
    if (over) throw tooMany(Math.max(1, Math.ceil((over[0]! + 1000 - t) / 1000)));
    return () => {
      bot.sends.push(t);
      chat.sends.push(t);
    };
  }

  function format(raw: unknown, parseMode: unknown, entities: unknown): { text: string; entities: MessageEntity[] } {
    const text = str(raw) ?? '';
    const mode = (str(parseMode) ?? '').toLowerCase();
    if (mode === 'html') return parseTelegramHtml(text);
    if (mode && mode !== 'markdown' && mode !== 'markdownv2') throw bad('unsupported parse_mode');
    const given = entities === undefined ? [] : object(entities, 'message entities');
    return { text, entities: Array.isArray(given) ? (given as MessageEntity[]) : [] };
  }

  function markup(raw: unknown): { inline?: InlineKeyboardMarkup; other?: SentMessage['reply_keyboard'] } {
    if (raw === undefined || raw === null || raw === '') return {};
    const m = object(raw, 'reply keyboard markup') as Record<string, unknown>;
    if (typeof m !== 'object' || m === null) throw bad("can't parse reply keyboard markup JSON object");
    if (!('inline_keyboard' in m)) return { other: m as unknown as SentMessage['reply_keyboard'] };
    const rows = m.inline_keyboard;
    if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) throw bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    for (const button of rows.flat() as Record<string, unknown>[]) {
      if (typeof button?.text !== 'string') throw bad("can't parse inline keyboard button: Field \"text\" must be of type String");
      if ('callback_data' in button) {
        const size = typeof button.callback_data === 'string' ? utf8Length(button.callback_data) : 0;
        if (size < 1 || size > 64) throw bad('BUTTON_DATA_INVALID');
      } else if ('url' in button) {
        if (!URL.canParse(String(button.url))) throw bad('BUTTON_URL_INVALID');
      } else if (!Object.keys(button).some((k) => k !== 'text')) {
        throw bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard");
      }
    }
    return rows.length && rows.some((r: unknown[]) => r.length) ? { inline: { inline_keyboard: rows as InlineKeyboardMarkup['inline_keyboard'] } } : {};
  }

  function store(bot: BotState, chat: ChatState, fields: Partial<Message>, keyboard: ReturnType<typeof markup>): SentMessage {
    const user = users.get(chat.userId)!;
    const message = {
      message_id: chat.nextMessageId++, from: botAsSender(bot), chat: chatObject(user), date: seconds(), ...fields,
      ...(keyboard.inline ? { reply_markup: keyboard.inline } : {}),
      ...(keyboard.other ? { reply_keyboard: keyboard.other } : {}),
    } as SentMessage;
    chat.messages.set(message.message_id, { message, fromBot: true, deleted: false, version: ++chat.version });
    notify(bot);
    return apiView(message);
  }
  /** What the API returns: the emulator-only keyboard note stays out. */
  const apiView = ({ reply_keyboard: _k, ...m }: SentMessage): SentMessage => clone(m);

  function botMessage(chat: ChatState, p: Params, missing: string): Stored {
    const stored = chat.messages.get(int(p.message_id) ?? NaN);
    if (!stored || stored.deleted) throw bad(missing);
    return stored;
  }

  function edit(bot: BotState, p: Params, change: (m: SentMessage) => Partial<SentMessage>): SentMessage {
    if (p.inline_message_id !== undefined) throw bad('MESSAGE_ID_INVALID');
    const chat = targetChat(bot, p);
    const stored = botMessage(chat, p, 'message to edit not found');
    if (!stored.fromBot) throw bad("message can't be edited");
    const keyboard = markup(p.reply_markup);
    const next = { ...stored.message, ...change(stored.message) };
    delete next.reply_markup; // an edit without reply_markup removes the inline keyboard
    if (keyboard.inline) next.reply_markup = keyboard.inline;
    const same = (m: SentMessage) => JSON.stringify([m.text, m.entities ?? [], m.caption, m.reply_markup ?? null]);
    if (same(next) === same(stored.message)) throw bad(NOT_MODIFIED);
    throttle(bot, chat)();
    stored.message = { ...next, edit_date: seconds() };
    stored.version = ++chat.version;
    notify(bot);
    return apiView(stored.message);
  }

  // ---- files: this bot's file_ids, uploads, URLs, the message fields ----

  function fileIdOf(bot: BotState, file: StoredFile, kind: TelegramMediaKind): string {
    let id = bot.files.idOf.get(file);
    if (!id) {
      id = newFileId(kind);
      bot.files.idOf.set(file, id);
      bot.files.byId.set(id, { file, kind });
    }
    return id;
  }

  /** getFile's file_path: one per file and bot, in the folder Telegram uses for its kind. */
  function filePathOf(bot: BotState, file: StoredFile, kind: TelegramMediaKind): string {
    let path = bot.files.pathOf.get(file);
    if (!path) {
      const extension = EXTENSION[file.mimeType] ?? (extensionOf(file.fileName) || 'dat');
      path = `${FILE_FOLDER[kind]}/file_${bot.files.byPath.size}.${extension}`;
      bot.files.pathOf.set(file, path);
      bot.files.byPath.set(path, file);
    }
    return path;
  }

  /** What the message shows: the method's kind when the format fits it, else a document (Bot API: "other formats may be sent as Audio or Document"). */
  const shownAs = (kind: TelegramMediaKind, file: StoredFile): TelegramMediaKind => (!SHOWN_AS[kind] || SHOWN_AS[kind].has(file.mimeType) ? kind : 'document');

  const durationParam = (p: Params) => {
    const seconds = int(p.duration);
    return seconds === undefined ? {} : { duration: Math.min(MAX_DURATION_S, Math.max(0, seconds)) };
  };
  const dimensionParams = (p: Params) => ({ ...(int(p.width) ? { width: int(p.width) } : {}), ...(int(p.height) ? { height: int(p.height) } : {}) });

  function fromUpload(upload: Upload, kind: TelegramMediaKind, p: Params): StoredFile {
    const { data, filename } = upload;
    if (data.length === 0) throw bad('file must be non-empty');
    // a file part over 50 MB: Telegram's front server refuses the whole request before the Bot API sees it
    if (data.length > LIMITS.upload) throw new ApiError(413, 'Request Entity Too Large');
    const mimeType = mimeOf(data, filename, upload.type);
    if (kind !== 'photo') return { uniqueId: newUniqueId(), bytes: data, mimeType, ...(filename ? { fileName: filename } : {}), ...durationParam(p), ...dimensionParams(p) };
    // not verified against Telegram: its text for a photo over 10 MB is undocumented; this is getFile's
    if (data.length > LIMITS.uploadPhoto) throw bad('file is too big');
    if (!isImage(mimeType, data)) throw bad('IMAGE_PROCESS_FAILED');
    checkPhotoDimensions(data);
    return photoFile(data, mimeType.startsWith('image/') ? mimeType : sniff(data)!);
  }

  /** Fetches a URL as Telegram does: a failure, a non-2xx answer or more than `limit` bytes all come to nothing. */
  async function fetchUrl(url: string, limit: number): Promise<{ bytes: Uint8Array; type?: string } | undefined> {
    try {
      const res = await fetch(url, { signal: AbortSignal.any([closer.signal, AbortSignal.timeout(URL_FETCH_TIMEOUT_MS)]) });
      if (!res.ok || !res.body || Number(res.headers.get('content-length') ?? 0) > limit) {
        await res.body?.cancel();
        return undefined;
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      const reader = res.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        if ((size += read.value.length) > limit) return void (await reader.cancel());
        chunks.push(read.value);
      }
      return size ? { bytes: Buffer.concat(chunks, size), type: res.headers.get('content-type') ?? undefined } : undefined;
    } catch {
      return undefined;
    }
  }

  async function fromUrl(url: string, kind: TelegramMediaKind, p: Params): Promise<{ file: StoredFile; shownAs: TelegramMediaKind }> {
    const fetched = await fetchUrl(url, kind === 'photo' ? LIMITS.urlPhoto : LIMITS.url);
    if (!fetched) throw bad('failed to get HTTP URL content'); // tdlib's text for WEBPAGE_CURL_FAILED
    const { bytes } = fetched;
    const fileName = URL.canParse(url) ? safeDecode(new URL(url).pathname.split('/').pop() ?? '') || undefined : undefined;
    const mimeType = mimeOf(bytes, fileName, fetched.type);
    if (kind === 'photo') {
      if (!isImage(mimeType, bytes)) throw bad('wrong type of the web page content'); // tdlib's text for WEBPAGE_MEDIA_EMPTY
      checkPhotoDimensions(bytes);
      return { file: photoFile(bytes, mimeType.startsWith('image/') ? mimeType : sniff(bytes)!), shownAs: 'photo' };
    }
    // the answer reported for other types (e.g. Eleirbag89/TelegramBotPHP#202, a .txt)
    if (kind === 'document' && !DOCUMENT_URL_TYPES.has(mimeType)) throw bad('wrong file identifier/HTTP URL specified');
    const file: StoredFile = { uniqueId: newUniqueId(), bytes, mimeType, ...(fileName ? { fileName } : {}), ...durationParam(p), ...dimensionParams(p) };
    // "the file must have the type audio/ogg and be no more than 1MB in size. 1-20MB voice notes will be sent as files"
    const voiceTooBig = kind === 'voice' && (mimeType !== 'audio/ogg' || bytes.length > LIMITS.urlVoice);
    return { file, shownAs: voiceTooBig ? 'document' : shownAs(kind, file) };
  }

  /** The file a send method names: an upload (direct or attach://), one of this bot's file_ids, or an http(s) URL. */
  async function inputFile(bot: BotState, p: Params, kind: TelegramMediaKind): Promise<{ file: StoredFile; shownAs: TelegramMediaKind }> {
    const value = p[kind];
    const given = typeof value === 'string' && value.startsWith('attach://') ? p[value.slice('attach://'.length)] : value;
    if (isUpload(given)) {
      const file = fromUpload(given, kind, p);
      return { file, shownAs: shownAs(kind, file) };
    }
    const ref = str(given);
    if (!ref) throw bad(`there is no ${kind} in the request`);
    const known = bot.files.byId.get(ref)?.file;
    if (known) {
      // a photo is not a document and the other way round; a file_id of another bot is not known here
      if (Boolean(known.sizes) !== (kind === 'photo')) throw bad('type of file mismatch');
      return { file: known, shownAs: shownAs(kind, known) };
    }
    if (/^https?:\/\//i.test(ref) && URL.canParse(ref)) return fromUrl(ref, kind, p);
    throw bad('wrong file identifier/HTTP URL specified');
  }

  /** The message field for a file, with this bot's file_ids. */
  function mediaFields(bot: BotState, kind: TelegramMediaKind, file: StoredFile): Partial<Message> {
    const ids = (f: StoredFile) => ({ file_id: fileIdOf(bot, f, kind), file_unique_id: f.uniqueId });
    const name = file.fileName ? { file_name: file.fileName } : {};
    const typeAndSize = { mime_type: file.mimeType, file_size: file.bytes.length };
    const duration = file.duration ?? 0;
    switch (kind) {
      case 'photo':
        return { photo: file.sizes!.map((s) => ({ ...ids(s), width: s.width!, height: s.height!, file_size: s.bytes.length })) };
      case 'voice':
        return { voice: { ...ids(file), duration, ...typeAndSize } };
      case 'audio':
        return { audio: { ...ids(file), duration, ...name, ...typeAndSize } };
      case 'video':
        return { video: { ...ids(file), width: file.width ?? 0, height: file.height ?? 0, duration, ...name, ...typeAndSize } };
      case 'document':
        return { document: { ...ids(file), ...name, ...typeAndSize } };
    }
  }

  /** sendPhoto, sendVoice, sendAudio, sendDocument, sendVideo: one shape, flood limits and faults as for sendMessage. */
  function mediaMethod(kind: TelegramMediaKind): Method {
    return {
      name: `send${kind[0]!.toUpperCase()}${kind.slice(1)}`,
      async run(bot, p) {
        const chat = targetChat(bot, p);
        const caption = format(p.caption, p.parse_mode, p.caption_entities);
        if (codePoints(caption.text) > MAX_CAPTION) throw bad('message caption is too long');
        const keyboard = markup(p.reply_markup);
        const { file, shownAs: shown } = await inputFile(bot, p, kind);
        throttle(bot, chat)();
        const captionFields = { ...(caption.text ? { caption: caption.text } : {}), ...(caption.entities.length ? { caption_entities: caption.entities } : {}) };
        return store(bot, chat, { ...mediaFields(bot, shown, file), ...captionFields }, keyboard);
      },
    };
  }

  function getFile(bot: BotState, p: Params): TelegramFile {
    const id = str(p.file_id) ?? '';
    if (!id) throw bad('file_id not specified');
    const known = bot.files.byId.get(id);
    if (!known) throw bad('invalid file_id');
    const { file, kind } = known;
    if (file.bytes.length > LIMITS.download) throw bad('file is too big'); // tdlib: MAX_DOWNLOAD_FILE_SIZE
    return { file_id: id, file_unique_id: file.uniqueId, file_size: file.bytes.length, file_path: filePathOf(bot, file, kind) };
  }

  const commandsKey = (p: Params) => JSON.stringify([(object(p.scope, 'scope') as { type?: string } | undefined)?.type ?? 'default', str(p.language_code) ?? '']);

  function wakeForWebhook(bot: BotState) {
    bot.poller?.wake('webhook');
    if (bot.retryTimer) clearTimeout(bot.retryTimer);
    bot.retryTimer = undefined;
  }

  // ---- the methods (names are case-insensitive, like Telegram's) ----

  interface Method {
    name: string;
    run(bot: BotState, p: Params): unknown;
  }
  const described = (result: unknown, description: string) => ({ result, description, described: true as const });

  const methodList: Method[] = [
    { name: 'getMe', run: (bot) => clone(bot.me) },
    {
      name: 'sendMessage',
      run(bot, p) {
        const chat = targetChat(bot, p);
        const { text, entities } = format(p.text, p.parse_mode, p.entities);
        if (!text.trim()) throw bad('message text is empty');
        if (codePoints(text) > MAX_TEXT) throw bad('message is too long');
        const keyboard = markup(p.reply_markup);
        throttle(bot, chat)();
        return store(bot, chat, { text, ...(entities.length ? { entities } : {}) }, keyboard);
      },
    },
    ...MEDIA_KINDS.map(mediaMethod),
    { name: 'getFile', run: getFile },
    {
      name: 'editMessageText',
      run: (bot, p) =>
        edit(bot, p, (m) => {
          if (m.text === undefined) throw bad('there is no text in the message to edit');
          const { text, entities } = format(p.text, p.parse_mode, p.entities);
          if (!text.trim()) throw bad('message text is empty');
          if (codePoints(text) > MAX_TEXT) throw bad('message is too long');
          return { text, entities: entities.length ? entities : undefined };
        }),
    },
    { name: 'editMessageReplyMarkup', run: (bot, p) => edit(bot, p, () => ({})) },
    {
      name: 'deleteMessage',
      run(bot, p) {
        const chat = targetChat(bot, p);
        const stored = botMessage(chat, p, 'message to delete not found');
        stored.deleted = true;
        stored.version = ++chat.version;
        notify(bot);
        return true;
      },
    },
    {
      name: 'answerCallbackQuery',
      run(bot, p) {
        const id = str(p.callback_query_id) ?? '';
        const query = bot.queries.get(id);
        if (!query || query.answered || now() - query.at > CALLBACK_QUERY_TTL_MS) throw bad(QUERY_TOO_OLD);
        query.answered = true;
        const text = str(p.text);
        bot.answers.push({ callbackQueryId: id, ...(text ? { text } : {}), ...(bool(p.show_alert) ? { showAlert: true } : {}) });
        notify(bot);
        return true;
      },
    },
    {
      name: 'sendChatAction',
      run(bot, p) {
        targetChat(bot, p);
        if (!CHAT_ACTIONS.has(str(p.action) ?? '')) throw bad('wrong parameter action in request');
        return true;
      },
    },
    {
      name: 'setWebhook',
      run(bot, p) {
        const url = str(p.url) ?? '';
        if (!url) return methods.deletewebhook!.run(bot, p);
        if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw bad('invalid webhook URL specified');
        const secretToken = str(p.secret_token);
        if (secretToken !== undefined && !SECRET.test(secretToken)) throw bad('secret token contains unallowed characters');
        const same = bot.webhook?.url === url && bot.webhook.secretToken === secretToken;
        if (bool(p.drop_pending_updates)) bot.queue = [];
        if (p.allowed_updates !== undefined) bot.allowedUpdates = object(p.allowed_updates, 'allowed updates') as string[];
        if (!same) bot.lastError = undefined;
        bot.webhook = { url, ...(secretToken ? { secretToken } : {}), maxConnections: int(p.max_connections) ?? 40 };
        wakeForWebhook(bot);
        void pump(bot);
        return described(true, same ? 'Webhook is already set' : 'Webhook was set');
      },
    },
    {
      name: 'deleteWebhook',
      run(bot, p) {
        const had = Boolean(bot.webhook);
        bot.webhook = undefined;
        wakeForWebhook(bot);
        if (bool(p.drop_pending_updates)) bot.queue = [];
        return described(true, had ? 'Webhook was deleted' : 'Webhook is already deleted');
      },
    },
    {
      name: 'getWebhookInfo',
      run: (bot) => ({
        url: bot.webhook?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: bot.queue.length,
        ...(bot.webhook ? { max_connections: bot.webhook.maxConnections, ip_address: '127.0.0.1' } : {}),
        ...(bot.lastError ? { last_error_date: bot.lastError.date, last_error_message: bot.lastError.message } : {}),
        ...(bot.allowedUpdates?.length ? { allowed_updates: bot.allowedUpdates } : {}),
      }),
    },
    {
      name: 'getUpdates',
      async run(bot, p) {
        const conflict = () => new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        if (bot.webhook) throw conflict();
        confirm(bot, int(p.offset));
        if (p.allowed_updates !== undefined) bot.allowedUpdates = object(p.allowed_updates, 'allowed updates') as string[];
        const limit = Math.min(100, Math.max(1, int(p.limit) ?? 100));
        const timeout = Math.max(0, int(p.timeout) ?? 0);
        bot.poller?.wake('conflict'); // Telegram ends the older of two concurrent getUpdates
        const batch = () => clone(bot.queue.slice(0, limit));
        if (bot.queue.length || timeout === 0 || closer.signal.aborted) return batch();
        const reason = await new Promise<Parameters<Poller['wake']>[0]>((resolve) => {
          const timer = setTimeout(() => poller.wake('timeout'), timeout * 1000);
          const poller: Poller = {
            wake(why) {
              clearTimeout(timer);
              if (bot.poller === poller) bot.poller = undefined;
              resolve(why);
            },
          };
          bot.poller = poller;
        });
        if (reason === 'conflict') throw new ApiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running');
        if (reason === 'webhook' && bot.webhook) throw conflict();
        return reason === 'closed' ? [] : batch();
      },
    },
    {
      name: 'setMyCommands',
      run(bot, p) {
        const commands = object(p.commands, 'commands');
        if (!Array.isArray(commands) || commands.length > 100) throw bad('BOT_COMMANDS_TOO_MUCH');
        for (const c of commands as BotCommand[]) {
          if (!/^[a-z0-9_]{1,32}$/.test(c?.command ?? '')) throw bad('BOT_COMMAND_INVALID');
          if (!c.description || c.description.length > 256) throw bad('command description is empty');
        }
        bot.commands.set(commandsKey(p), clone(commands as BotCommand[]));
        return true;
      },
    },
    { name: 'getMyCommands', run: (bot, p) => clone(bot.commands.get(commandsKey(p)) ?? []) },
    {
      name: 'deleteMyCommands',
      run(bot, p) {
        bot.commands.delete(commandsKey(p));
        return true;
      },
    },
  ];
  const methods: Record<string, Method> = Object.fromEntries(methodList.map((m) => [m.name.toLowerCase(), m]));

  function takeFault(method: string): Fault | undefined {
    const index = faults.findIndex((f) => !f.methods || f.methods.some((m) => m.toLowerCase() === method.toLowerCase()));
    const fault = faults[index];
    if (fault && --fault.count <= 0) faults.splice(index, 1);
    return fault;
  }

  async function botApi(req: Request, url: URL, token: string, methodName: string, drop?: () => void): Promise<Response> {
    counters.requests++;
    const bot = bots.get(token);
    const method = methods[methodName.toLowerCase()];
    const answer = (err: ApiError) => {
      if (err.code === 429) counters.tooManyRequests++;
      if (err.code >= 500) counters.serverErrors++;
      return apiFailure(err);
    };
    if (!bot) return answer(new ApiError(401, 'Unauthorized'));
    if (!method) return answer(new ApiError(404, 'Not Found'));
    counters.byMethod[method.name] = (counters.byMethod[method.name] ?? 0) + 1;
    const fault = takeFault(method.name);
    const dropped = () => {
      counters.dropped++;
      if (!drop) return brokenResponse();
      drop();
      return new Response(null, { status: 500 });
    };
    if (fault?.kind === '429') return answer(tooMany(fault.retryAfter ?? 1));
    if (fault?.kind === '5xx') {
      const status = fault.status ?? 500;
      return answer(new ApiError(status, status === 502 ? 'Bad Gateway' : 'Internal Server Error'));
    }
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    if (fault?.kind === 'drop-before') return dropped();
    let response: Response;
    try {
      const out = await method.run(bot, await readParams(req, url));
      const d = out as { described?: true; result: unknown; description: string };
      response = json(200, d?.described ? { ok: true, result: d.result, description: d.description } : { ok: true, result: out });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      response = answer(err);
    }
    return fault?.kind === 'drop-after' ? dropped() : response;
  }

  // ---- user side ----

  /** Her message in her chat with the bot: the user is remembered, the chat opened (writing again unblocks it), the update queued. */
  function fromUser(token: string, user: EmulatedUser, content: (bot: BotState) => Partial<Message>): Update {
    const bot = botOf(token);
    const prev = users.get(user.id);
    if (prev?.deactivated) throw new Error(`user ${user.id} is deactivated`);
    const u: UserState = { ...prev, ...Object.fromEntries(Object.entries(user).filter(([, v]) => v !== undefined)), id: user.id, firstName: user.firstName ?? prev?.firstName ?? `User ${user.id}`, deactivated: false };
    users.set(u.id, u);
    let chat = bot.chats.get(u.id);
    if (!chat) bot.chats.set(u.id, (chat = { userId: u.id, nextMessageId: 1, messages: new Map(), blocked: false, version: 0, sends: [] }));
    chat.blocked = false;
    const message = { message_id: chat.nextMessageId++, from: userObject(u), chat: chatObject(u), date: seconds(), ...content(bot) } as SentMessage;
    chat.messages.set(message.message_id, { message, fromBot: false, deleted: false, version: chat.version });
    return pushUpdate(bot, { message: clone(message) as Update['message'] });
  }

  const commandEntities = (text: string): MessageEntity[] =>
    [...text.matchAll(/(?<=^|\s)\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=$|\s)/g)].map((m) => ({ type: 'bot_command', offset: m.index, length: m[0].length }));

  function userSends(token: string, user: EmulatedUser, text: string, voice?: { duration: number }): Update {
    if (voice) return userSendsMedia(token, user, { kind: 'voice', bytes: oggVoiceBytes(), duration: voice.duration, ...(text ? { caption: text } : {}) });
    const entities = commandEntities(text);
    return fromUser(token, user, () => ({ text, ...(entities.length ? { entities } : {}) }));
  }

  /** A user's file as her app uploads it: stored once, given this bot's file_ids, typed by what she states or its name. */
  function userFile(media: UserMedia): StoredFile {
    const { kind, bytes, fileName } = media;
    if (!MEDIA_KINDS.includes(kind)) throw new Error(`unknown media kind ${String(kind)}`);
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error('a file needs its bytes');
    const byName = MIME[extensionOf(fileName)];
    const mimeType = bareType(media.mimeType) ?? byName ?? (kind === 'document' || kind === 'photo' ? sniff(bytes) : undefined) ?? DEFAULT_TYPE[kind];
    if (kind === 'photo') return photoFile(bytes, mimeType);
    const duration = media.duration === undefined ? {} : { duration: Math.min(MAX_DURATION_S, Math.max(0, Math.round(media.duration))) };
    return { uniqueId: newUniqueId(), bytes, mimeType, ...(fileName ? { fileName } : {}), ...duration };
  }

  function userSendsMedia(token: string, user: EmulatedUser, media: UserMedia): Update {
    const file = userFile(media);
    const caption = media.caption ?? '';
    const entities = commandEntities(caption);
    return fromUser(token, user, (bot) => ({
      ...mediaFields(bot, media.kind, file),
      ...(caption ? { caption } : {}),
      ...(entities.length ? { caption_entities: entities } : {}),
    }));
  }

  function userPresses(token: string, userId: number, messageId: number, data: string): Update {
    const bot = botOf(token);
    const stored = bot.chats.get(userId)?.messages.get(messageId);
    if (!stored?.fromBot || stored.deleted) throw new Error(`no bot message ${messageId} in chat ${userId}`);
    const buttons = stored.message.reply_markup?.inline_keyboard.flat() ?? [];
    if (!buttons.some((b) => 'callback_data' in b && b.callback_data === data)) throw new Error(`message ${messageId} has no button with callback_data ${JSON.stringify(data)}`);
    const id = ((BigInt(userId) << 24n) | BigInt(++callbackSeq)).toString();
    bot.queries.set(id, { at: now(), answered: false });
    const chatInstance = String(-(bot.me.id * 7919 + userId));
    return pushUpdate(bot, { callback_query: { id, from: userObject(users.get(userId)!), message: apiView(stored.message), chat_instance: chatInstance, data } });
  }

  function chat(token: string, chatId: number): SentMessage[] {
    const state = botOf(token).chats.get(chatId);
    return state ? [...state.messages.values()].filter((s) => s.fromBot && !s.deleted).map((s) => clone(s.message)) : [];
  }

  /** Resolves once `ready()` holds (checked on every chat change) or the time is up. */
  function until(bot: BotState, ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        bot.listeners.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (ready()) finish(true);
        else if (closer.signal.aborted) finish(false);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      bot.listeners.add(check);
    });
  }

  /** The file a message carries (a photo by its largest size), if any. */
  function attachment(m: Message): { kind: TelegramMediaKind; fileId: string } | undefined {
    const photo = m.photo?.at(-1);
    if (photo) return { kind: 'photo', fileId: photo.file_id };
    const kind = (['voice', 'audio', 'video', 'document'] as const).find((k) => m[k]);
    return kind && { kind, fileId: m[kind]!.file_id };
  }

  /** What the playground needs to show a message's file: its type and a control URL that serves the bytes. */
  function controlMedia(bot: BotState, m: Message): ControlMedia | undefined {
    const found = attachment(m);
    const file = found && bot.files.byId.get(found.fileId)?.file;
    if (!found || !file) return undefined;
    const url = `${basePath}/_control/bots/${bot.token}/files/${found.fileId}`;
    return { kind: found.kind, mimeType: file.mimeType, ...(file.fileName ? { fileName: file.fileName } : {}), size: file.bytes.length, url };
  }

  const userFields = (body: Record<string, unknown>) => ({ firstName: str(body.firstName), lastName: str(body.lastName), username: str(body.username), languageCode: str(body.languageCode) });

  /** The playground's upload: multipart/form-data with `file`, `kind`, and optionally `caption`, `duration` and the user's fields. */
  async function controlUpload(req: Request, url: URL, token: string, id: number): Promise<Response> {
    const form = await readParams(req, url);
    const upload = form.file;
    if (!isUpload(upload) || upload.data.length === 0) return json(400, { error: 'file is required (multipart/form-data)' });
    const kind = str(form.kind) as TelegramMediaKind;
    if (!MEDIA_KINDS.includes(kind)) return json(400, { error: `kind must be one of ${MEDIA_KINDS.join(', ')}` });
    const duration = form.duration === undefined || form.duration === '' ? undefined : Number(form.duration);
    if (duration !== undefined && !(Number.isFinite(duration) && duration >= 0)) return json(400, { error: 'duration must be a number of seconds' });
    const media: UserMedia = {
      kind, bytes: upload.data, ...(upload.type ? { mimeType: upload.type } : {}), ...(upload.filename ? { fileName: upload.filename } : {}),
      ...(duration !== undefined ? { duration } : {}), ...(str(form.caption) ? { caption: str(form.caption) } : {}),
    };
    return json(200, userSendsMedia(token, { id, ...userFields(form) }, media));
  }

  async function jsonBody(req: Request): Promise<Record<string, unknown>> {
    try {
      const parsed: unknown = JSON.parse((await bodyOf(req)).toString('utf8'));
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }

  // Playground control API: a loopback-only developer tool, deliberately unauthenticated.
  async function control(req: Request, url: URL, rest: string): Promise<Response> {
    try {
      if (rest === '/bots' && req.method === 'GET') {
        return json(200, { bots: [...bots.values()].map((b) => ({ token: b.token, id: b.me.id, username: b.me.username, firstName: b.me.first_name })) });
      }
      const files = /^\/bots\/([^/]+)\/files\/([^/]+)$/.exec(rest);
      if (files) {
        const file = bots.get(safeDecode(files[1]!))?.files.byId.get(safeDecode(files[2]!))?.file;
        if (!file) return json(404, { error: 'not found' });
        return req.method === 'GET' || req.method === 'HEAD' ? fileResponse(file, req.method) : json(405, { error: 'method not allowed' });
      }
      const m = /^\/bots\/([^/]+)\/(users|chats)\/(-?\d+)\/(messages|press|block|media)$/.exec(rest);
      const bot = m && bots.get(safeDecode(m[1]!));
      if (!m || !bot) return json(404, { error: 'not found' });
      const [, , kind, idText, action] = m;
      const id = Number(idText);
      if (req.method === 'POST' && kind === 'users' && action === 'media') return await controlUpload(req, url, bot.token, id);
      const body = req.method === 'POST' ? await jsonBody(req) : {};
      if (req.method === 'POST' && kind === 'users' && action === 'messages') {
        if (typeof body.text !== 'string') return json(400, { error: 'text is required' });
        return json(200, userSends(bot.token, { id, ...userFields(body) }, body.text));
      }
      if (req.method === 'POST' && kind === 'users' && action === 'press') {
        return json(200, userPresses(bot.token, id, Number(body.messageId), String(body.data ?? '')));
      }
      if (req.method === 'POST' && kind === 'users' && action === 'block') {
        blockBot(bot.token, id);
        return json(200, { ok: true });
      }
      if (req.method === 'GET' && kind === 'chats' && action === 'messages') {
        const after = Number(url.searchParams.get('after')) || 0;
        const waitS = Math.min(CONTROL_MAX_WAIT_S, Math.max(0, Number(url.searchParams.get('wait')) || 0));
        const state = () => bot.chats.get(id);
        await until(bot, () => (state()?.version ?? 0) > after, waitS * 1000);
        const s = state();
        const shown = s ? [...s.messages.values()].filter((x) => x.fromBot && !x.deleted && x.version > after) : [];
        const messages = shown.map(({ message }) => {
          const media = controlMedia(bot, message);
          return { ...clone(message), ...(media ? { media } : {}) };
        });
        return json(200, { messages, cursor: s?.version ?? 0 });
      }
      return json(405, { error: 'method not allowed' });
    } catch (err) {
      return json(400, { error: (err as Error).message });
    }
  }

  async function route(req: Request, info: RequestInfo): Promise<Response> {
    const drop = info.dropConnection;
    const url = new URL(req.url);
    if (basePath && url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return json(404, { ok: false, error_code: 404, description: 'Not Found' });
    const path = url.pathname.slice(basePath.length);
    if (path.startsWith('/_control/')) return control(req, url, path.slice('/_control'.length));
    const api = /^\/bot([^/]+)\/([A-Za-z]*)$/.exec(path);
    if (api) return botApi(req, url, decodeURIComponent(api[1]!), api[2]!, drop);
    const download = /^\/file\/bot([^/]+)\/(.+)$/.exec(path);
    if (download && (req.method === 'GET' || req.method === 'HEAD')) return downloadFile(safeDecode(download[1]!), safeDecode(download[2]!), req.method);
    return json(404, { ok: false, error_code: 404, description: 'Not Found' });
  }

  /** The Bot API's file server: a path getFile gave this bot, else 404. */
  function downloadFile(token: string, filePath: string, method: string): Response {
    const file = bots.get(token)?.files.byPath.get(filePath);
    return file ? fileResponse(file, method) : json(404, { ok: false, error_code: 404, description: 'Not Found' });
  }

  function blockBot(token: string, userId: number) {
    const state = botOf(token).chats.get(userId);
    if (!state) throw new Error(`user ${userId} never wrote to this bot`);
    state.blocked = true;
  }

  return {
    handle: (req, info) => route(req, info),
    async listen(port = 0) {
      // Telegram's front server answers an oversized upload itself; its description, as clients report it (telegraf#913)
      const served = await serveFetch(route, { port, maxBodyBytes: MAX_REQUEST_BYTES, tooLarge: () => apiFailure(new ApiError(413, 'Request Entity Too Large')) });
      servers.add(served);
      const close = async () => {
        if (servers.delete(served)) await served.close();
      };
      return { apiRoot: `${served.url}${basePath}`, close };
    },
    addBot(token, info = {}) {
      const match = TOKEN.exec(token);
      if (!match) throw new Error(`not a bot token: ${token}`);
      const existing = bots.get(token);
      if (existing) return clone(existing.me);
      const id = Number(match[1]);
      const me: BotUser = {
        id, is_bot: true, first_name: info.firstName ?? 'Emulated bot', username: info.username ?? `emulated_${id}_bot`,
        can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false,
        has_main_web_app: false, has_topics_enabled: false, allows_users_to_create_topics: false, can_manage_bots: false,
        supports_join_request_queries: false,
      };
      bots.set(token, {
        token, me, chats: new Map(), queue: [], nextUpdateId: FIRST_UPDATE_ID, sends: [], delivering: false,
        queries: new Map(), answers: [], commands: new Map(), listeners: new Set(),
        files: { byId: new Map(), idOf: new Map(), byPath: new Map(), pathOf: new Map() },
      });
      return clone(me);
    },
    userSends,
    userSendsMedia,
    file(token, fileId) {
      const file = botOf(token).files.byId.get(fileId)?.file;
      return file && { bytes: file.bytes, mimeType: file.mimeType, ...(file.fileName ? { fileName: file.fileName } : {}) };
    },
    userPresses,
    blockBot,
    deactivateUser(userId) {
      const u = users.get(userId);
      if (!u) throw new Error(`unknown user ${userId}`);
      u.deactivated = true;
    },
    chat,
    callbackAnswers: (token) => clone(botOf(token).answers),
    webhookInfo(token) {
      const bot = botOf(token);
      return {
        url: bot.webhook?.url ?? '',
        ...(bot.webhook?.secretToken ? { secretToken: bot.webhook.secretToken } : {}),
        pendingUpdateCount: bot.queue.length,
        ...(bot.lastError ? { lastErrorMessage: bot.lastError.message } : {}),
      };
    },
    inject: (fault) => void faults.push({ ...fault }),
    clearFaults: () => void faults.splice(0),
    stats: () => clone(counters),
    async waitForMessages(token, chatId, count, timeoutMs = 5_000) {
      const bot = botOf(token);
      if (await until(bot, () => chat(token, chatId).length >= count, timeoutMs)) return chat(token, chatId);
      const got = chat(token, chatId).map((m) => m.text ?? m.caption ?? `[${attachment(m)?.kind ?? 'message'}]`);
      throw new Error(`expected ${count} bot messages in chat ${chatId} within ${timeoutMs} ms, got ${got.length}: ${JSON.stringify(got)}`);
    },
    async close() {
      closer.abort();
      for (const bot of bots.values()) {
        if (bot.retryTimer) clearTimeout(bot.retryTimer);
        bot.retryTimer = undefined;
        bot.poller?.wake('closed');
        notify(bot);
      }
      const open = [...servers];
      servers.clear();
      await Promise.all(open.map((served) => served.close()));
    },
  };
}
