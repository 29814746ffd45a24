import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { ApiBaseRequestClient } from '../../bot/channels/whatsapp';
import { serveFetch, type ServedHandler } from '../../bot/http/node-adapter';
import { createTwilioEmulator, type TwilioEmulator, type TwilioEmulatorOptions } from '../../bot/local/twilio-emulator';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'emulator-auth-token';
const SENDER = 'whatsapp:+14155238886';
const USER = 'whatsapp:+393331234567';
const MB = 1024 * 1024;
const HOUR = 3_600_000;
const BASIC = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;

/** Deterministic bytes of a given size (17 MB included), so a comparison can fail on any byte. */
const filled = (size: number, seed = 7) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + seed) & 0xff);
const ogg = (codecHeader: string) => {
  const page = new Uint8Array(64);
  page.set(new TextEncoder().encode('OggS'), 0);
  page.set(new TextEncoder().encode(codecHeader), 28);
  return page;
};

/** The files the bot's media route would serve: type, bytes and status per path; `/go/<name>` redirects to it. */
const FILES: Record<string, { type: string; bytes: Uint8Array; status?: number }> = {
  'photo.jpg': { type: 'image/jpeg', bytes: filled(2048) },
  'voice.ogg': { type: 'audio/ogg', bytes: ogg('OpusHead') },
  'voice-declared.ogg': { type: 'audio/ogg; codecs=opus', bytes: filled(300) },
  'leaflet.pdf': { type: 'application/pdf', bytes: filled(40_000) },
  'big.pdf': { type: 'application/pdf', bytes: filled(17 * MB) },
  'big-photo.jpg': { type: 'image/jpeg', bytes: filled(6 * MB) },
  'empty.pdf': { type: 'application/pdf', bytes: new Uint8Array(0) },
  'archive.zip': { type: 'application/zip', bytes: filled(500) },
  'vorbis.ogg': { type: 'audio/ogg', bytes: ogg('\x01vorbis') },
  'broken.pdf': { type: 'application/pdf', bytes: filled(10), status: 500 },
};

let files: ServedHandler;
let receiver: ServedHandler;
let closedPortUrl: string;
const fileRequests: { method: string; path: string }[] = [];
const callbacks: Record<string, string>[] = [];

beforeAll(async () => {
  files = await serveFetch(async (req) => {
    const { pathname } = new URL(req.url);
    fileRequests.push({ method: req.method, path: pathname });
    const [, kind, name] = pathname.split('/');
    if (kind === 'go') return new Response(null, { status: 302, headers: { location: `/files/${name}` } });
    const file = FILES[name ?? ''];
    if (!file) return new Response('not found', { status: 404 });
    return new Response(file.bytes.slice(), { status: file.status ?? 200, headers: { 'content-type': file.type } });
  });
  receiver = await serveFetch(async (req) => {
    callbacks.push(Object.fromEntries(new URLSearchParams(await req.text())));
    return new Response('<Response/>', { headers: { 'content-type': 'text/xml' } });
  });
  const gone = await serveFetch(async () => new Response('never'));
  closedPortUrl = `${gone.url}/files/photo.jpg`;
  await gone.close();
});
afterAll(async () => {
  await files.close();
  await receiver.close();
});

let clock: number;
let emu: TwilioEmulator;
let apiBase: string;
let client: twilio.Twilio;

async function start(extra: Partial<TwilioEmulatorOptions> = {}) {
  await emu?.close();
  emu = createTwilioEmulator({
    accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, senders: [SENDER], incomingWebhookUrl: `${receiver.url}/wa`, now: () => clock, ...extra,
  });
  apiBase = (await emu.listen()).apiBase;
  client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: new ApiBaseRequestClient(apiBase) });
}

beforeEach(async () => {
  callbacks.length = 0;
  fileRequests.length = 0;
  clock = Date.parse('2025-03-01T10:00:00Z');
  await start();
  await emu.userSends(USER, { body: 'ciao' }); // opens the 24-hour window
  callbacks.length = 0;
});
afterEach(() => emu.close());

const fileUrl = (name: string) => `${files.url}/files/${name}`;
const statuses = (sid: string) => callbacks.filter((c) => c.MessageSid === sid).map((c) => c.MessageStatus);
const errorCodeReported = (sid: string) => callbacks.find((c) => c.MessageSid === sid && c.MessageStatus === 'failed')?.ErrorCode;

async function sendMedia(mediaUrl: string[], body?: string) {
  const msg = await client.messages.create({ from: SENDER, to: USER, mediaUrl, ...(body ? { body } : {}), statusCallback: `${receiver.url}/status` });
  await emu.settle();
  return msg;
}

async function restError(p: Promise<unknown>): Promise<{ status: number; code: number | undefined }> {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(twilio.RestException);
  const { status, code } = err as twilio.RestException;
  return { status, code };
}

describe('sending a file by MediaUrl', () => {
  it.each([
    ['a photo behind a redirect', '/go/photo.jpg', 'photo.jpg', 'image/jpeg'],
    ['an Opus voice note', '/files/voice.ogg', 'voice.ogg', 'audio/ogg'],
    ['a voice note whose header names the Opus codec', '/files/voice-declared.ogg', 'voice-declared.ogg', 'audio/ogg'],
    ['a PDF leaflet', '/files/leaflet.pdf', 'leaflet.pdf', 'application/pdf'],
  ])('fetches %s before sent and stores the same bytes as a Media resource', async (_, path, name, contentType) => {
    const msg = await sendMedia([`${files.url}${path}`]);
    expect(msg).toMatchObject({ status: 'queued', numMedia: '1', body: '' });
    expect(msg.sid).toMatch(/^MM[0-9a-f]{32}$/);

    expect(statuses(msg.sid)).toEqual(['sent', 'delivered']);
    const sent = emu.message(msg.sid)!;
    const bytes = FILES[name]!.bytes;
    expect(sent.media).toEqual([{ sid: expect.stringMatching(/^ME[0-9a-f]{32}$/), contentType, size: bytes.byteLength }]);
    expect(emu.mediaContent(sent.media[0]!.sid)).toEqual(bytes);
    expect(emu.stats()).toMatchObject({ mediaFetches: 1, mediaFetchFailures: 0 });
  });

  it.each([
    ['an unreachable host', () => closedPortUrl, 63019],
    ['a 404', () => fileUrl('missing.pdf'), 63019],
    ['a 500', () => fileUrl('broken.pdf'), 63019],
    ['an empty file', () => fileUrl('empty.pdf'), 63019],
    ['a 17 MB document', () => fileUrl('big.pdf'), 11751],
    ['a 6 MB photo (WhatsApp images stop at 5 MB)', () => fileUrl('big-photo.jpg'), 11751],
    ['a zip archive', () => fileUrl('archive.zip'), 63021],
    ['an Ogg file in Vorbis', () => fileUrl('vorbis.ogg'), 63021],
  ])('fails the message for %s with error %i, reported in the status callback', async (_, url, code) => {
    const msg = await sendMedia([url()], 'il volantino');
    expect(msg.status).toBe('queued');

    expect(statuses(msg.sid)).toEqual(['failed']);
    expect(errorCodeReported(msg.sid)).toBe(String(code));
    expect(await client.messages(msg.sid).fetch()).toMatchObject({ status: 'failed', errorCode: code, errorMessage: expect.any(String) });
    expect(emu.message(msg.sid)?.media).toEqual([]);
    expect(emu.stats()).toMatchObject({ mediaFetches: 1, mediaFetchFailures: 1 });
  });

  it('fetches only the first of several MediaUrls, as WhatsApp carries one file per message', async () => {
    const msg = await sendMedia([fileUrl('photo.jpg'), fileUrl('leaflet.pdf')]);
    expect(statuses(msg.sid)).toEqual(['sent', 'delivered']);
    expect(emu.message(msg.sid)?.media.map((m) => m.contentType)).toEqual(['image/jpeg']);
    expect(fileRequests.map((r) => r.path)).toEqual(['/files/photo.jpg']);
  });

  it.each([
    ['eleven MediaUrls', () => Array.from({ length: 11 }, () => fileUrl('photo.jpg')), 21623],
    ['a MediaUrl without http(s)', () => ['files/photo.jpg'], 21620],
  ])('refuses %s with 400 and code %i, creating nothing', async (_, mediaUrl, code) => {
    expect(await restError(client.messages.create({ from: SENDER, to: USER, mediaUrl: mediaUrl() }))).toEqual({ status: 400, code });
    expect(emu.messagesTo(USER)).toHaveLength(0);
  });

  it('sends HEAD before GET when the head probe is on, so a one-time link can be checked against it', async () => {
    await start({ mediaHeadProbe: true });
    await emu.userSends(USER, { body: 'ciao' });
    const msg = await sendMedia([fileUrl('photo.jpg')]);
    expect(fileRequests).toEqual([{ method: 'HEAD', path: '/files/photo.jpg' }, { method: 'GET', path: '/files/photo.jpg' }]);
    expect(statuses(msg.sid)).toEqual(['sent', 'delivered']);
  });

  it('checks the 24-hour window before fetching anything', async () => {
    clock += 25 * HOUR;
    const msg = await sendMedia([fileUrl('photo.jpg')]);
    expect(errorCodeReported(msg.sid)).toBe('63016');
    expect(fileRequests).toEqual([]);
  });

  it('keeps injected faults on the API: a refused create fetches nothing', async () => {
    emu.inject({ kind: '5xx', count: 1, status: 503 });
    expect((await restError(client.messages.create({ from: SENDER, to: USER, mediaUrl: [fileUrl('photo.jpg')] }))).status).toBe(503);
    emu.inject({ kind: '429', count: 1 });
    expect(await restError(client.messages('MM' + '0'.repeat(32)).media.list())).toEqual({ status: 429, code: 20429 });
    expect(emu.stats()).toMatchObject({ mediaFetches: 0, serverErrors: 1, tooManyRequests: 1 });
  });
});

describe('Media resources through the SDK', () => {
  it('lists, fetches, downloads and deletes the media of a sent message', async () => {
    const msg = await sendMedia([fileUrl('photo.jpg')]);
    const [listed, ...more] = await client.messages(msg.sid).media.list();
    expect(more).toEqual([]);
    expect(listed).toMatchObject({ accountSid: ACCOUNT_SID, parentSid: msg.sid, contentType: 'image/jpeg', sid: emu.message(msg.sid)!.media[0]!.sid });
    expect(listed!.dateCreated.getTime()).toBe(clock);

    const fetched = await client.messages(msg.sid).media(listed!.sid).fetch();
    expect(fetched.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${msg.sid}/Media/${listed!.sid}.json`);
    const download = await fetch(`${apiBase}${fetched.uri.replace(/\.json$/, '')}`, { headers: { authorization: BASIC } });
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(FILES['photo.jpg']!.bytes);

    expect(await client.messages(msg.sid).media(listed!.sid).remove()).toBe(true);
    expect(await restError(client.messages(msg.sid).media(listed!.sid).fetch())).toEqual({ status: 404, code: 20404 });
    expect(await restError(client.messages(msg.sid).media(listed!.sid).remove())).toEqual({ status: 404, code: 20404 });
    expect(await client.messages(msg.sid).media.list()).toEqual([]);
    expect((await fetch(download.url)).status).toBe(404);
    expect(emu.mediaContent(listed!.sid)).toBeUndefined();
    // deleting the stored copy does not unsend it: the record of what she received stays
    expect(emu.message(msg.sid)?.media).toHaveLength(1);
  });

  it('pages a received message with three files in Twilio\'s list shape, and deletes one of them', async () => {
    const sent = await emu.userSends(USER, { media: ['image/jpeg', 'audio/ogg', 'application/pdf'].map((contentType, i) => ({ contentType, bytes: filled(10, i) })) });
    const page = (await (await fetch(`${apiBase}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sent.messageSid}/Media.json?PageSize=2`, { headers: { authorization: BASIC } })).json()) as Record<string, unknown>;
    expect(page).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null, next_page_uri: expect.stringContaining('Page=1') });
    expect(page.media_list).toHaveLength(2);

    const all = await client.messages(sent.messageSid).media.list({ pageSize: 2 });
    expect(all.map((m) => m.contentType)).toEqual(['image/jpeg', 'audio/ogg', 'application/pdf']);
    await client.messages(sent.messageSid).media(all[1]!.sid).remove();
    expect((await client.messages(sent.messageSid).media.list()).map((m) => m.contentType)).toEqual(['image/jpeg', 'application/pdf']);
  });

  it('answers 404 with 20404 for media under another message or an unknown message', async () => {
    const a = await sendMedia([fileUrl('photo.jpg')]);
    const b = await sendMedia([fileUrl('leaflet.pdf')]);
    const ofA = emu.message(a.sid)!.media[0]!.sid;
    expect(await restError(client.messages(b.sid).media(ofA).fetch())).toEqual({ status: 404, code: 20404 });
    expect(await restError(client.messages('MM' + 'f'.repeat(32)).media.list())).toEqual({ status: 404, code: 20404 });
  });
});

describe('authenticated media URLs', () => {
  const auth = (token: string) => ({ authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${token}`).toString('base64')}` });

  it.each([
    ['no credentials', {}],
    ['a wrong auth token', auth('wrong-token')],
  ])('refuses an inbound MediaUrl with %s: 401 and code 20003', async (_, headers) => {
    await emu.userSends(USER, { media: [{ contentType: 'image/png', bytes: filled(100) }] });
    const res = await fetch(callbacks.at(-1)!.MediaUrl0!, { headers });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 20003, status: 401 });
  });

  it('redirects an authenticated request to a URL that serves the file without credentials for 4 hours', async () => {
    const bytes = filled(17 * MB, 3);
    const sent = await emu.userSends(USER, { body: 'la pagella', media: [{ contentType: 'application/pdf', bytes }] });
    expect(sent.status).toBe(200);
    const mediaUrl = callbacks.at(-1)!.MediaUrl0!;

    const redirect = await fetch(mediaUrl, { headers: { authorization: BASIC }, redirect: 'manual' });
    expect(redirect.status).toBe(307);
    const shortLived = new URL(redirect.headers.get('location')!, mediaUrl).href;

    const file = await fetch(shortLived);
    expect(file.headers.get('content-type')).toBe('application/pdf');
    expect(file.headers.get('content-length')).toBe(String(17 * MB));
    expect(Buffer.compare(Buffer.from(await file.arrayBuffer()), Buffer.from(bytes))).toBe(0);

    const tampered = shortLived.replace(/Signature=(.)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
    expect((await fetch(tampered)).status).toBe(403);
    clock += 4 * HOUR + 1;
    expect((await fetch(shortLived)).status).toBe(403);
  });
});

describe('control API for the playground', () => {
  const control = (path: string) => `${apiBase}/_control${path}`;
  const userPath = `/users/${encodeURIComponent(USER)}`;

  it('posts a file as the user: a signed webhook with an authenticated MediaUrl', async () => {
    const bytes = ogg('OpusHead');
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'audio/ogg' }), 'voce.ogg');
    form.append('body', 'ascolta');
    const res = await fetch(control(`${userPath}/media`), { method: 'POST', body: form });
    const posted = (await res.json()) as { messageSid: string; webhookStatus: number };
    expect(posted).toEqual({ messageSid: expect.stringMatching(/^MM[0-9a-f]{32}$/), webhookStatus: 200 });

    const hook = callbacks.at(-1)!;
    expect(hook).toMatchObject({ MessageSid: posted.messageSid, From: USER, Body: 'ascolta', NumMedia: '1', MediaContentType0: 'audio/ogg', MessageType: 'audio' });
    expect((await fetch(hook.MediaUrl0!)).status).toBe(401);
    const file = await fetch(hook.MediaUrl0!, { headers: { authorization: BASIC } });
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
  });

  it('refuses an upload without a file', async () => {
    const form = new FormData();
    form.append('body', 'solo testo');
    const res = await fetch(control(`${userPath}/media`), { method: 'POST', body: form });
    expect(res.status).toBe(400);
  });

  it('shows the bot\'s media in the chat view with a control URL under the base path, and failed media as failed', async () => {
    await start({ basePath: '/twilio' });
    await emu.userSends(USER, { body: 'ciao' });
    const ok = await sendMedia([fileUrl('photo.jpg')], 'la foto');
    const bad = await sendMedia([fileUrl('archive.zip')]);

    const view = (await (await fetch(control(`${userPath}/messages`))).json()) as { messages: any[] };
    const [shown, failed] = view.messages;
    expect(shown).toMatchObject({ sid: ok.sid, body: 'la foto', status: 'delivered' });
    const mediaSid = emu.message(ok.sid)!.media[0]!.sid;
    expect(shown.media).toEqual([{ sid: mediaSid, contentType: 'image/jpeg', size: 2048, url: `/twilio/_control/media/${mediaSid}` }]);
    expect(failed).toMatchObject({ sid: bad.sid, status: 'failed', errorCode: 63021, errorMessage: 'Channel invalid content error', media: [] });

    const file = await fetch(new URL(shown.media[0].url, apiBase));
    expect(file.headers.get('content-type')).toBe('image/jpeg');
    expect(file.headers.get('content-length')).toBe('2048');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(FILES['photo.jpg']!.bytes);
    expect((await fetch(new URL('/twilio/_control/media/ME' + '0'.repeat(32), apiBase))).status).toBe(404);
  });
});
