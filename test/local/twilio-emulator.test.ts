import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import twilio from 'twilio';
import { ApiBaseRequestClient } from '../../bot/channels/whatsapp';

import { serveFetch, type ServedHandler } from '../../bot/http/node-adapter';
import { createTwilioEmulator, type TwilioEmulator, type TwilioEmulatorOptions } from '../../bot/local/twilio-emulator';

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'emulator-auth-token';
const SENDER = 'whatsapp:+14155238886';
const USER = 'whatsapp:+393331234567';
const OTHER_USER = 'whatsapp:+393339876543';
const TEMPLATE = 'HX0123456789abcdef0123456789abcdef';
const HOUR = 3_600_000;

interface Hit {
  path: string;
  params: Record<string, string>;
  signature: string;
}

let receiver: ServedHandler;
const hits: Hit[] = [];
const hitsAt = (path: string) => hits.filter((h) => h.path === path);
const statusesAt = (path: string, sid: string) => hitsAt(path).filter((h) => h.params.MessageSid === sid).map((h) => h.params.MessageStatus);

beforeAll(async () => {
  receiver = await serveFetch(async (req) => {
    const url = new URL(req.url);
    hits.push({
      path: url.pathname + url.search,
      params: Object.fromEntries(new URLSearchParams(await req.text())),
      signature: req.headers.get('x-twilio-signature') ?? '',
    });
    return new Response('<Response/>', { headers: { 'content-type': 'text/xml' } });
  });
});
afterAll(() => receiver.close());

let clock: number;
let emu: TwilioEmulator;
let apiBase: string;
let client: twilio.Twilio;

async function start(extra: Partial<TwilioEmulatorOptions> = {}) {
  await emu?.close();
  emu = createTwilioEmulator({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    senders: [SENDER],
    incomingWebhookUrl: `${receiver.url}/wa`,
    now: () => clock,
    templates: { [TEMPLATE]: { body: 'Ciao {{1}}, il vaccino è alle {{2}}.' } },
    ...extra,
  });
  apiBase = (await emu.listen()).apiBase;
  client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: new ApiBaseRequestClient(apiBase) });
}

async function restError(p: Promise<unknown>): Promise<{ status: number; code: number | undefined }> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(twilio.RestException);
  const { status, code } = err as twilio.RestException;
  return { status, code };
}

beforeEach(async () => {
  hits.length = 0;
  clock = Date.parse('2025-03-01T10:00:00Z');
  await start();
});
afterEach(() => emu.close());

describe('sending inside the 24-hour window', () => {
  it('queues the message, then reports sent and delivered through signed status callbacks', async () => {
    await emu.userSends(USER, { body: 'ciao' });
    const msg = await client.messages.create({ from: SENDER, to: USER, body: 'Benvenuti!', statusCallback: `${receiver.url}/status?tag=a` });

    expect(msg.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(msg).toMatchObject({ status: 'queued', direction: 'outbound-api', apiVersion: '2010-04-01', accountSid: ACCOUNT_SID, body: 'Benvenuti!', numMedia: '0', errorCode: null });
    expect(msg.dateCreated.getTime()).toBe(clock);

    await emu.settle();
    expect(statusesAt('/status?tag=a', msg.sid)).toEqual(['sent', 'delivered']);
    for (const hit of hitsAt('/status?tag=a')) {
      expect(hit.params).toMatchObject({ SmsSid: msg.sid, SmsStatus: hit.params.MessageStatus, AccountSid: ACCOUNT_SID, From: SENDER, To: USER, ApiVersion: '2010-04-01' });
      expect(twilio.validateRequest(AUTH_TOKEN, hit.signature, `${receiver.url}/status?tag=a`, hit.params)).toBe(true);
      expect(twilio.validateRequest(AUTH_TOKEN, hit.signature, `${receiver.url}/status?tag=a`, { ...hit.params, MessageStatus: 'read' })).toBe(false);
    }
    expect((await client.messages(msg.sid).fetch()).status).toBe('delivered');
    expect(emu.stats()).toMatchObject({ created: 1, callbacksSent: 2, callbacksFailed: 0 });
  });

  it('reports read after the user reads the chat', async () => {
    await emu.userSends(USER, { body: 'ciao' });
    const msg = await client.messages.create({ from: SENDER, to: USER, body: 'Come va?', statusCallback: `${receiver.url}/status` });
    await emu.settle();
    emu.markRead(USER);
    await emu.settle();
    expect(statusesAt('/status', msg.sid)).toEqual(['sent', 'delivered', 'read']);
    expect(emu.messagesTo(USER)[0]?.status).toBe('read');
  });
});

describe('sending outside the 24-hour window', () => {
  it('accepts free text and then fails it with 63016 through the status callback', async () => {
    await emu.userSends(USER, { body: 'ciao' });
    clock += 25 * HOUR;
    const late = await client.messages.create({ from: SENDER, to: USER, body: 'Ci sei?', statusCallback: `${receiver.url}/status` });
    const never = await client.messages.create({ from: SENDER, to: OTHER_USER, body: 'Ciao!', statusCallback: `${receiver.url}/status` });
    expect(late.status).toBe('queued');
    await emu.settle();

    for (const sid of [late.sid, never.sid]) {
      expect(statusesAt('/status', sid)).toEqual(['failed']);
      expect(hitsAt('/status').find((h) => h.params.MessageSid === sid)?.params.ErrorCode).toBe('63016');
      const fetched = await client.messages(sid).fetch();
      expect(fetched).toMatchObject({ status: 'failed', errorCode: 63016 });
    }
  });

  it('delivers a template with its variables filled in', async () => {
    const msg = await client.messages.create({
      from: SENDER,
      to: USER,
      contentSid: TEMPLATE,
      contentVariables: JSON.stringify({ 1: 'Giulia', 2: '10:30' }),
      statusCallback: `${receiver.url}/status`,
    });
    expect(msg.body).toBe('Ciao Giulia, il vaccino è alle 10:30.');
    await emu.settle();
    expect(statusesAt('/status', msg.sid)).toEqual(['sent', 'delivered']);
    expect(emu.messagesTo(USER)).toMatchObject([{ body: 'Ciao Giulia, il vaccino è alle 10:30.', contentSid: TEMPLATE, contentVariables: { 1: 'Giulia', 2: '10:30' }, status: 'delivered' }]);
  });
});

describe('messages from the user', () => {
  it('posts a signed webhook with the media URL served by the emulator', async () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const sent = await emu.userSends(USER, { body: 'la foto', media: [{ contentType: 'image/png', bytes }], profileName: 'Giulia' });
    expect(sent.status).toBe(200);
    expect(sent.messageSid).toMatch(/^MM[0-9a-f]{32}$/);

    const [hit] = hitsAt('/wa');
    expect(hit?.params).toMatchObject({
      MessageSid: sent.messageSid, SmsMessageSid: sent.messageSid, AccountSid: ACCOUNT_SID, From: USER, To: SENDER, Body: 'la foto',
      NumMedia: '1', MediaContentType0: 'image/png', ProfileName: 'Giulia', WaId: '393331234567', SmsStatus: 'received', ApiVersion: '2010-04-01',
    });
    expect(twilio.validateRequest(AUTH_TOKEN, hit!.signature, `${receiver.url}/wa`, hit!.params)).toBe(true);
    expect(twilio.validateRequest('another-token', hit!.signature, `${receiver.url}/wa`, hit!.params)).toBe(false);

    const mediaUrl = hit!.params.MediaUrl0!;
    expect(mediaUrl.startsWith(`${apiBase}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sent.messageSid}/Media/ME`)).toBe(true);
    const media = await fetch(mediaUrl, { headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` } });
    expect(media.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await media.arrayBuffer())).toEqual(bytes);
  });

  it('carries the quick-reply payload of a button tap', async () => {
    await emu.userSends(USER, { buttonPayload: 'feed_done', buttonText: 'Fatto' });
    expect(hitsAt('/wa')[0]?.params).toMatchObject({ ButtonPayload: 'feed_done', ButtonText: 'Fatto', Body: 'Fatto', MessageType: 'button', NumMedia: '0' });
  });
});

describe('API errors as the SDK sees them', () => {
  it('maps each refusal to a RestException with Twilio status and code', async () => {
    await emu.userSends(USER, { body: 'ciao' });
    const bad = twilio(ACCOUNT_SID, 'wrong-token', { httpClient: new ApiBaseRequestClient(apiBase) });
    expect(await restError(bad.messages.create({ from: SENDER, to: USER, body: 'x' }))).toEqual({ status: 401, code: 20003 });
    expect(await restError(client.messages.create({ from: SENDER, to: 'whatsapp:393', body: 'x' }))).toEqual({ status: 400, code: 21211 });
    expect(await restError(client.messages.create({ from: 'whatsapp:+15550001111', to: USER, body: 'x' }))).toEqual({ status: 400, code: 63007 });
    expect(await restError(client.messages.create({ from: SENDER, to: USER }))).toEqual({ status: 400, code: 21602 });
    expect(await restError(client.messages.create({ from: SENDER, to: USER, contentSid: 'HX' + 'f'.repeat(32) }))).toEqual({ status: 400, code: 21655 });
    expect(await restError(client.messages('SM' + '0'.repeat(32)).fetch())).toEqual({ status: 404, code: 20404 });
    emu.optOut(USER);
    expect(await restError(client.messages.create({ from: SENDER, to: USER, body: 'x' }))).toEqual({ status: 400, code: 21610 });
    expect(emu.stats().created).toBe(0);
  });

  it('answers an injected 429 with code 20429 and creates nothing, then recovers', async () => {
    emu.inject({ kind: '429', count: 1 });
    expect(await restError(client.messages.create({ from: SENDER, to: USER, body: 'x' }))).toEqual({ status: 429, code: 20429 });
    expect(emu.messagesTo(USER)).toHaveLength(0);
    expect((await client.messages.create({ from: SENDER, to: USER, body: 'x' })).status).toBe('queued');
    emu.inject({ kind: '5xx', count: 1, status: 503 });
    expect((await restError(client.messages.create({ from: SENDER, to: USER, body: 'x' }))).status).toBe(503);
    expect(emu.stats()).toMatchObject({ tooManyRequests: 1, serverErrors: 1, created: 1 });
  });

  it('refuses requests beyond the concurrency limit with 20429', async () => {
    await start({ maxConcurrentRequests: 2 });
    emu.inject({ kind: 'slow', count: 2, delayMs: 300 });
    const results = await Promise.allSettled([1, 2, 3].map((i) => client.messages.create({ from: SENDER, to: USER, body: `m${i}` })));
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as twilio.RestException).code);
    expect(refused).toEqual([20429]);
    expect(emu.messagesTo(USER)).toHaveLength(2);
  });
});

describe('throughput', () => {
  it('paces 30 messages at 10 per second without rejecting any', async () => {
    await start({ messagesPerSecond: 10, now: Date.now });
    await emu.userSends(USER, { body: 'ciao' });
    const created = await Promise.all(Array.from({ length: 30 }, (_, i) => client.messages.create({ from: SENDER, to: USER, body: `n${i}` })));
    expect(created.every((m) => m.status === 'queued')).toBe(true);
    await emu.settle();

    const sentAt = emu.messagesTo(USER).map((m) => m.dateSent!).sort((a, b) => a - b);
    expect(sentAt).toHaveLength(30);
    expect(sentAt[29]! - sentAt[0]!).toBeGreaterThanOrEqual(1_900);
    for (let i = 0; i + 10 < sentAt.length; i++) expect(sentAt[i + 10]! - sentAt[i]!).toBeGreaterThanOrEqual(950);
    expect(emu.stats()).toMatchObject({ created: 30, tooManyRequests: 0 });
  });
});

describe('lost connections', () => {
  it('drop-before fails in the SDK and creates nothing', async () => {
    emu.inject({ kind: 'drop-before', count: 1 });
    const err: unknown = await client.messages.create({ from: SENDER, to: USER, body: 'perso' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(twilio.RestException);
    expect(emu.messagesTo(USER)).toHaveLength(0);
    expect(emu.stats().dropped).toBe(1);
  });

  it('drop-after fails in the SDK although the message was created', async () => {
    emu.inject({ kind: 'drop-after', count: 1 });
    const err: unknown = await client.messages.create({ from: SENDER, to: USER, body: 'doppio?' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(twilio.RestException);
    expect(emu.messagesTo(USER).map((m) => m.body)).toEqual(['doppio?']);
    const listed = await client.messages.list({ to: USER });
    expect(listed.map((m) => m.body)).toEqual(['doppio?']);
  });
});

describe('control API for the playground', () => {
  it('sends as the user, long-polls for replies and opts out', async () => {
    const userPath = `${apiBase}/_control/users/${encodeURIComponent(USER)}`;
    const posted = await fetch(`${userPath}/messages`, { method: 'POST', body: JSON.stringify({ body: 'ciao bot' }) });
    expect(await posted.json()).toMatchObject({ messageSid: expect.stringMatching(/^SM/), webhookStatus: 200 });
    expect(hitsAt('/wa')[0]?.params.Body).toBe('ciao bot');

    const first = (await (await fetch(`${userPath}/messages`)).json()) as { messages: unknown[]; cursor: number };
    expect(first.messages).toEqual([]);
    const started = Date.now();
    const poll = fetch(`${apiBase}/_control/users/%2B393331234567/messages?after=${first.cursor}&wait=5`).then((r) => r.json());
    setTimeout(() => void client.messages.create({ from: SENDER, to: USER, body: 'risposta' }), 150);
    const polled = (await poll) as { messages: { body: string }[]; cursor: number };
    expect(polled.messages.map((m) => m.body)).toEqual(['risposta']);
    expect(polled.cursor).toBeGreaterThan(first.cursor);
    expect(Date.now() - started).toBeLessThan(4_000);

    expect((await fetch(`${userPath}/opt-out`, { method: 'POST' })).status).toBe(200);
    expect(await restError(client.messages.create({ from: SENDER, to: USER, body: 'x' }))).toEqual({ status: 400, code: 21610 });
  });
});
