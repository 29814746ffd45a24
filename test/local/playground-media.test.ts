import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Bot, InputFile } from 'grammy';
import { autoRetry } from '@grammyjs/auto-retry';
import twilio from 'twilio';
import { ApiBaseRequestClient } from '../../bot/channels/whatsapp';
import { serveFetch, type ServedHandler } from '../../bot/http/node-adapter';
import { createTwilioEmulator, type TwilioEmulator } from '../../bot/local/twilio-emulator';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { playgroundHandler } from '../../bot/local/playground';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const MISSING = `Chromium is not installed at ${CHROMIUM}: install it with \`apt-get install chromium\` to run the playground's browser test`;

const BOT_TOKEN = '123456789:playground-media-token';
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH_TOKEN = 'emulator-auth-token';
const SENDER = 'whatsapp:+14155238886';
const OPTIONS = {
  telegramControlBase: '/_emulator/telegram/_control',
  twilioControlBase: '/_emulator/twilio/_control',
  botToken: BOT_TOKEN,
  whatsappSender: SENDER,
};
/** A 4×4 orange PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGN4kKAARwzEcQBIUhYBK8rsWwAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
const SAMPLES_PER_SECOND = 48_000;

// ---- Ogg, read independently of the page: pages, CRC (bit by bit), packets -----------------------------------
interface OggPage {
  flags: number;
  granule: bigint;
  sequence: number;
  crcOk: boolean;
  packets: Buffer[];
}

function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** Splits an Ogg stream into pages; packets here never cross a page (the page writes whole packets). */
function oggPages(bytes: Buffer): OggPage[] {
  const pages: OggPage[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`no OggS capture pattern at byte ${at}`);
    const count = bytes[at + 26]!;
    const lacing = [...bytes.subarray(at + 27, at + 27 + count)];
    const end = at + 27 + count + lacing.reduce((a, b) => a + b, 0);
    const page = Buffer.from(bytes.subarray(at, end));
    const stated = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    const packets: Buffer[] = [];
    let body = at + 27 + count, start = body;
    for (const size of lacing) {
      body += size;
      if (size < 255) {
        packets.push(bytes.subarray(start, body));
        start = body;
      }
    }
    pages.push({ flags: bytes[at + 5]!, granule: bytes.readBigUInt64LE(at + 6), sequence: bytes.readUInt32LE(at + 18), crcOk: oggCrc(page) === stated, packets });
    at = end;
  }
  return pages;
}

/** What makes a file a voice note a phone would send: Ogg pages with valid CRCs, OpusHead alone, then OpusTags, then audio. */
function expectOggOpus(bytes: Buffer, seconds: [number, number]) {
  expect(bytes.toString('latin1', 0, 4)).toBe('OggS');
  const pages = oggPages(bytes);
  expect(pages.every((p) => p.crcOk)).toBe(true);
  expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
  expect(pages[0]!.packets.map((p) => p.toString('latin1', 0, 8))).toEqual(['OpusHead']);
  expect(pages[0]!.flags).toBe(2); // beginning of stream
  expect(pages[1]!.packets[0]!.toString('latin1', 0, 8)).toBe('OpusTags');
  expect(pages.at(-1)!.flags).toBe(4); // end of stream
  const preSkip = pages[0]!.packets[0]!.readUInt16LE(10);
  const heard = (Number(pages.at(-1)!.granule) - preSkip) / SAMPLES_PER_SECOND;
  expect(heard).toBeGreaterThanOrEqual(seconds[0]);
  expect(heard).toBeLessThanOrEqual(seconds[1]);
  return pages;
}

// ---- the page's remux, run in Node on WebM files built here ------------------------------------------------
/** The page's WebM → Ogg section, evaluated on its own: it is pure, so Node can run it. */
function pageRemux(): (webm: Uint8Array) => Uint8Array {
  const html = readFileSync(new URL('../../bot/local/playground.html', import.meta.url), 'utf8');
  const start = html.indexOf('// ---- WebM → Ogg');
  const end = html.indexOf('\n// ---- ', start + 1);
  if (start < 0 || end < 0) throw new Error('playground.html lost its "// ---- WebM → Ogg" section');
  return new Function(`${html.slice(start, end)}\nreturn webmToOgg;`)() as (webm: Uint8Array) => Uint8Array;
}

const UNKNOWN = -1;
/** An EBML element: id bytes, then its size as an 8-byte vint (or "unknown"), then the payload. */
function el(id: number[], ...payload: (Uint8Array | number[])[]): Buffer {
  const body = Buffer.concat(payload.map((p) => Buffer.from(p)));
  return sized(id, body, body.length);
}
function sized(id: number[], body: Buffer, size: number): Buffer {
  const header = Buffer.alloc(8, 0xff); // unknown size: every value bit set
  if (size !== UNKNOWN) header.writeBigUInt64BE(BigInt(size));
  header[0] = 0x01; // the marker of an 8-byte vint
  return Buffer.concat([Buffer.from(id), header, body]);
}
const uintEl = (id: number[], n: number) => el(id, [n]);
const ID = {
  ebml: [0x1a, 0x45, 0xdf, 0xa3], segment: [0x18, 0x53, 0x80, 0x67], tracks: [0x16, 0x54, 0xae, 0x6b], entry: [0xae],
  number: [0xd7], codec: [0x86], codecPrivate: [0x63, 0xa2], audio: [0xe1], channels: [0x9f], cluster: [0x1f, 0x43, 0xb6, 0x75],
  timecode: [0xe7], simpleBlock: [0xa3], blockGroup: [0xa0], block: [0xa1], cues: [0x1c, 0x53, 0xbb, 0x6b],
};
const track = (n: number, codec: string, extra: Buffer[] = []) =>
  el(ID.entry, uintEl(ID.number, n), el(ID.codec, Buffer.from(codec)), ...extra);
const blockHead = (trackNo: number, lacing: number) => [0x80 | trackNo, 0, 0, 0x80 | (lacing << 1)];
/** TOC bytes (RFC 6716 §3.1): config 1 is one 20 ms SILK frame; code 3 with a count byte of 3 is three; config 16 is 2.5 ms CELT. */
const TWENTY_MS = 1 << 3, THREE_20MS = (1 << 3) | 3, CELT_2_5MS = 16 << 3;
const SAMPLES: Record<number, number> = { [TWENTY_MS]: 960, [THREE_20MS]: 3 * 960, [CELT_2_5MS]: 120 };
const packet = (toc: number, size: number) => Buffer.concat([Buffer.from([toc, toc === THREE_20MS ? 3 : 0x11]), Buffer.alloc(size - 2, 0x22)]);
const samples = (packets: Buffer[]) => packets.reduce((n, p) => n + SAMPLES[p[0]!]!, 0);
const OPUS_HEAD = Buffer.from([...Buffer.from('OpusHead'), 1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]); // pre-skip 312

function xiphLaced(trackNo: number, frames: Buffer[]): Buffer {
  const sizes = frames.slice(0, -1).flatMap((f) => [...Array(Math.floor(f.length / 255)).fill(255), f.length % 255]);
  return Buffer.from([...blockHead(trackNo, 1), frames.length - 1, ...sizes, ...Buffer.concat(frames)]);
}
function ebmlLaced(trackNo: number, frames: Buffer[]): Buffer {
  // first size as a 2-byte vint, then differences as 2-byte signed vints (bias 2^13 - 1)
  const sizes = frames.slice(0, -1).flatMap((f, i) => {
    const v = i === 0 ? f.length : f.length - frames[i - 1]!.length + 8191;
    return [0x40 | (v >> 8), v & 0xff];
  });
  return Buffer.from([...blockHead(trackNo, 3), frames.length - 1, ...sizes, ...Buffer.concat(frames)]);
}
const fixedLaced = (trackNo: number, frames: Buffer[]) => Buffer.from([...blockHead(trackNo, 2), frames.length - 1, ...Buffer.concat(frames)]);
const simple = (trackNo: number, frame: Buffer) => el(ID.simpleBlock, Buffer.from([...blockHead(trackNo, 0), ...frame]));
const EBML_HEADER = el(ID.ebml, el([0x42, 0x82], Buffer.from('webm')));

describe('the page turns a WebM recording into an Ogg Opus voice note', () => {
  const webmToOgg = pageRemux();
  const overASecond = Array.from({ length: 60 }, (_, i) => packet(TWENTY_MS, 40 + i)); // 1.2 s: more than one audio page
  const long = [packet(TWENTY_MS, 300), packet(TWENTY_MS, 600), packet(TWENTY_MS, 255)]; // lacing values of 255 inside
  const laced = [[packet(THREE_20MS, 280), packet(TWENTY_MS, 30), packet(CELT_2_5MS, 10)],
    [packet(TWENTY_MS, 50), packet(TWENTY_MS, 20), packet(TWENTY_MS, 70)], [packet(CELT_2_5MS, 8), packet(CELT_2_5MS, 8)]] as const;
  const cases: { name: string; webm: Buffer; packets: Buffer[]; head: { channels: number; preSkip: number } }[] = [
    {
      name: 'SimpleBlocks with CodecPrivate, as Chromium writes it',
      webm: Buffer.concat([EBML_HEADER, el(ID.segment,
        el(ID.tracks, track(1, 'A_OPUS', [el(ID.codecPrivate, OPUS_HEAD), el(ID.audio, uintEl(ID.channels, 1))])),
        el(ID.cluster, uintEl(ID.timecode, 0), ...overASecond.map((f) => simple(1, f))),
        el(ID.cues, [1, 2, 3]))]),
      packets: overASecond,
      head: { channels: 1, preSkip: 312 },
    },
    {
      name: 'BlockGroups in unknown-size clusters, no CodecPrivate, a video track beside',
      webm: Buffer.concat([EBML_HEADER, sized(ID.segment, Buffer.concat([
        el(ID.tracks, track(1, 'V_VP8'), track(2, 'A_OPUS', [el(ID.audio, uintEl(ID.channels, 2))])),
        sized(ID.cluster, Buffer.concat([uintEl(ID.timecode, 0), simple(1, Buffer.from([9, 9, 9])),
          el(ID.blockGroup, el(ID.block, Buffer.from([...blockHead(2, 0), ...long[0]!])))]), UNKNOWN),
        sized(ID.cluster, Buffer.concat([uintEl(ID.timecode, 20), el(ID.blockGroup, el(ID.block, Buffer.from([...blockHead(2, 0), ...long[1]!])))]), UNKNOWN),
        sized(ID.cluster, Buffer.concat([uintEl(ID.timecode, 40), simple(2, long[2]!)]), UNKNOWN),
      ]), UNKNOWN)]),
      packets: long,
      head: { channels: 2, preSkip: 312 },
    },
    {
      name: 'Xiph, EBML and fixed-size lacing',
      webm: Buffer.concat([EBML_HEADER, el(ID.segment,
        el(ID.tracks, track(1, 'A_OPUS', [el(ID.codecPrivate, OPUS_HEAD)])),
        el(ID.cluster, uintEl(ID.timecode, 0),
          el(ID.simpleBlock, xiphLaced(1, [...laced[0]])),
          el(ID.simpleBlock, ebmlLaced(1, [...laced[1]])),
          el(ID.simpleBlock, fixedLaced(1, [...laced[2]]))))]),
      packets: laced.flat(),
      head: { channels: 1, preSkip: 312 },
    },
  ];

  it.each(cases)('$name', ({ webm, packets, head }) => {
    const ogg = Buffer.from(webmToOgg(webm));
    const pages = expectOggOpus(ogg, [0, 2]);
    const opusHead = pages[0]!.packets[0]!;
    expect({ version: opusHead[8], channels: opusHead[9], preSkip: opusHead.readUInt16LE(10), rate: opusHead.readUInt32LE(12) })
      .toEqual({ version: 1, ...head, rate: 48_000 });
    const audio = pages.slice(2);
    expect(Buffer.concat(audio.flatMap((p) => p.packets))).toEqual(Buffer.concat(packets));
    expect(audio.flatMap((p) => p.packets).map((p) => p.length)).toEqual(packets.map((p) => p.length));
    expect(audio.at(-1)!.granule).toBe(BigInt(samples(packets)));
    expect(audio.every((p) => Number(p.granule) <= samples(packets))).toBe(true);
  });

  it('starts a new page about every second of audio', () => {
    const pages = oggPages(Buffer.from(webmToOgg(cases[0]!.webm)));
    expect(pages.slice(2).map((p) => p.granule)).toEqual([48_000n, 57_600n]); // a second (50 packets of 20 ms), then the other 10
  });

  it.each([
    ['no Opus track', Buffer.concat([EBML_HEADER, el(ID.segment, el(ID.tracks, track(1, 'A_VORBIS')))]), /no Opus track/],
    ['no audio', Buffer.concat([EBML_HEADER, el(ID.segment, el(ID.tracks, track(1, 'A_OPUS')))]), /empty/],
    ['not WebM at all', Buffer.from([0, 0, 0, 0]), /not a WebM element/],
  ])('refuses a recording with %s', (_, webm, error) => {
    expect(() => webmToOgg(webm)).toThrow(error);
  });
});

// ---- the page in Chromium ------------------------------------------------------------------------------------
it.runIf(!haveChromium)('has Chromium for the browser test', ({ skip }) => {
  if (process.env.CI) throw new Error(MISSING);
  console.warn(MISSING);
  skip(MISSING);
});

interface Received {
  kind: string;
  mimeType?: string;
  fileName?: string;
  caption?: string;
  bytes: Buffer;
}

describe.skipIf(!haveChromium)('playground media in Chromium', () => {
  let server: ServedHandler;
  let telegram: TelegramEmulator;
  let whatsapp: TwilioEmulator;
  let bot: Bot;
  let client: twilio.Twilio;
  let browser: Browser;
  const telegramGot: Received[] = [];
  const whatsappGot: Received[] = [];
  const served = new Map<string, { type: string; bytes: Buffer }>([['dot.png', { type: 'image/png', bytes: PNG }]]);
  const basicAuth = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}`;

  /** The stand-in bot on WhatsApp: keeps what she sends; answers a voice note with a photo and her own voice note. */
  async function whatsappWebhook(req: Request): Promise<Response> {
    const form = new URLSearchParams(await req.text());
    if (form.get('NumMedia') === '0') return new Response('<Response/>', { headers: { 'content-type': 'text/xml' } });
    const res = await fetch(form.get('MediaUrl0')!, { headers: { authorization: basicAuth } });
    const bytes = Buffer.from(await res.arrayBuffer());
    const mimeType = form.get('MediaContentType0')!;
    whatsappGot.push({ kind: form.get('MessageType')!, mimeType, caption: form.get('Body') ?? '', bytes });
    if (mimeType.startsWith('audio/')) {
      served.set('wa-voice.ogg', { type: 'audio/ogg', bytes });
      const to = form.get('From')!;
      await client.messages.create({ from: SENDER, to, mediaUrl: [`${server.url}/files/dot.png`], body: 'a photo' });
      await client.messages.create({ from: SENDER, to, mediaUrl: [`${server.url}/files/wa-voice.ogg`] });
    }
    return new Response('<Response/>', { headers: { 'content-type': 'text/xml' } });
  }

  async function download(fileId: string): Promise<Buffer> {
    const file = await bot.api.getFile(fileId);
    const res = await fetch(`${server.url}/_emulator/telegram/file/bot${BOT_TOKEN}/${file.file_path}`);
    if (!res.ok) throw new Error(`download of ${fileId} failed: ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  beforeAll(async () => {
    whatsapp = createTwilioEmulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, senders: [SENDER], basePath: '/_emulator/twilio' });
    telegram = createTelegramEmulator({ basePath: '/_emulator/telegram' });
    telegram.addBot(BOT_TOKEN, { username: 'media_bot' });
    const playground = playgroundHandler(OPTIONS);
    server = await serveFetch(async (req, info) => {
      const { pathname } = new URL(req.url);
      if (pathname.startsWith('/_emulator/twilio/')) return whatsapp.handle(req, info);
      if (pathname.startsWith('/_emulator/telegram/')) return telegram.handle(req, info);
      if (pathname === '/whatsapp/webhook') return whatsappWebhook(req);
      const file = served.get(pathname.replace(/^\/files\//, ''));
      if (file) return new Response(new Uint8Array(file.bytes), { headers: { 'content-type': file.type } });
      return playground(req);
    });
    whatsapp.setIncomingWebhookUrl(`${server.url}/whatsapp/webhook`);
    client = twilio(ACCOUNT_SID, AUTH_TOKEN, { httpClient: new ApiBaseRequestClient(`${server.url}/_emulator/twilio`) });

    bot = new Bot(BOT_TOKEN, { client: { apiRoot: `${server.url}/_emulator/telegram` } });
    bot.api.config.use(autoRetry()); // the emulator holds bots to Telegram's one message per second per chat
    bot.on('message:voice', async (ctx) => {
      const { voice, caption } = ctx.message;
      const bytes = await download(voice.file_id);
      telegramGot.push({ kind: 'voice', mimeType: voice.mime_type, caption, bytes });
      await ctx.replyWithPhoto(new InputFile(PNG, 'dot.png'), { caption: 'a photo' });
      await ctx.replyWithVoice(new InputFile(bytes, 'echo.ogg'), { duration: voice.duration });
    });
    bot.on('message:photo', async (ctx) => {
      const largest = ctx.message.photo.at(-1)!;
      telegramGot.push({ kind: 'photo', caption: ctx.message.caption, bytes: await download(largest.file_id) });
    });
    bot.on('message:document', async (ctx) => {
      const { document, caption } = ctx.message;
      telegramGot.push({ kind: 'document', mimeType: document.mime_type, fileName: document.file_name, caption, bytes: await download(document.file_id) });
    });
    bot.catch((err) => console.error('media bot:', err.error));
    await new Promise<void>((resolve, reject) => {
      bot.start({ timeout: 10, onStart: () => resolve() }).catch(reject);
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await server?.close();
    await telegram?.close();
    await whatsapp?.close();
  });

  /** Presses record, lets ~1.5 s of the fake microphone's beeps in, and stops from the keyboard. */
  async function recordVoiceNote(page: Page, phone: string) {
    const button = page.locator(phone).getByRole('button', { name: 'Record a voice note' });
    await button.click();
    await expect.poll(() => button.getAttribute('aria-pressed')).toBe('true'); // once the microphone is open
    const timer = page.locator(`${phone} [role="timer"]`);
    await timer.waitFor();
    await page.waitForTimeout(1_500); // real time: the recorder records what the microphone gives it
    expect(await timer.innerText()).toMatch(/^0:0[12]$/);
    await button.press('Space');
    await page.locator(`${phone} .record[aria-pressed="false"]`).waitFor();
    expect(await timer.isHidden()).toBe(true);
  }

  async function attach(page: Page, phone: string, file: { name: string; mimeType: string; buffer: Buffer }, caption = '') {
    await page.locator(phone).getByRole('textbox', { name: 'Message' }).fill(caption);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator(phone).getByRole('button', { name: 'Attach' }).click()]);
    await chooser.setFiles(file);
  }

  /** The `count`th file the bot got; if it never comes, the failure says what her pane shows (e.g. "not sent (404)"). */
  async function arrived<T>(page: Page, phone: string, list: T[], count: number): Promise<T> {
    try {
      await expect.poll(() => list.length, { timeout: 8_000 }).toBeGreaterThanOrEqual(count);
    } catch (err) {
      throw new Error(`the bot got ${list.length} of ${count} files; the pane shows:\n${await page.locator(phone).innerText()}`, { cause: err });
    }
    return list[count - 1]!;
  }

  /** The bot's photo has been loaded and drawn; its voice note has a source the player can read to the end. */
  async function expectBotMedia(page: Page, phone: string) {
    const img = page.locator(`${phone} .msg.bot img`);
    await img.waitFor();
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth), { timeout: 8_000 }).toBe(4);
    const audio = page.locator(`${phone} .msg.bot audio`);
    await audio.waitFor();
    expect(await audio.getAttribute('src')).toMatch(/^\/_emulator\/.+\/_control\//);
    const seconds = await audio.evaluate((el: HTMLAudioElement) => new Promise<number>((resolve, reject) => {
      if (el.readyState >= 1) return resolve(el.duration);
      el.addEventListener('loadedmetadata', () => resolve(el.duration));
      el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)));
    }));
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(2.5);
  }

  it('records voice notes as OGG/Opus, sends photos and PDFs, and shows the media the bot sends', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['microphone'] });
    const page = await context.newPage();
    page.setDefaultTimeout(8_000);
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text()))); // CSP violations land here
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url);
    const amina = '.phone[data-key="tg:1001"]', rahima = '.phone[data-key="wa:+8801711111111"]';

    // Telegram: a voice note goes as OGG/Opus with kind voice; the bot answers with a photo and the same voice note.
    await recordVoiceNote(page, amina);
    expect(await page.locator(`${amina} .msg.me audio`).getAttribute('src')).toMatch(/^blob:/);
    const voice = await arrived(page, amina, telegramGot, 1);
    expect(voice).toMatchObject({ kind: 'voice', mimeType: 'audio/ogg' });
    expectOggOpus(voice.bytes, [1, 2.5]);
    await expectBotMedia(page, amina);

    // A photo with the typed text as its caption, then a PDF.
    await attach(page, amina, { name: 'garden.png', mimeType: 'image/png', buffer: PNG }, 'our garden');
    expect(await arrived(page, amina, telegramGot, 2)).toMatchObject({ kind: 'photo', caption: 'our garden', bytes: PNG });
    await attach(page, amina, { name: 'letter.pdf', mimeType: 'application/pdf', buffer: PDF });
    expect(await arrived(page, amina, telegramGot, 3)).toMatchObject({ kind: 'document', mimeType: 'application/pdf', fileName: 'letter.pdf', bytes: PDF });
    const link = page.locator(`${amina} .msg.me a.file`, { hasText: 'letter.pdf' });
    expect(await link.innerText()).toContain(`${PDF.length} B`);
    expect(await link.getAttribute('download')).toBe('letter.pdf');
    expect(await page.locator(`${amina} .msg.me img`).evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(4);

    // Esc cancels a recording: the microphone closes and nothing is sent.
    const giulia = '.phone[data-key="tg:2001"]';
    const giuliaRecords = page.locator(giulia).getByRole('button', { name: 'Record a voice note' });
    await giuliaRecords.click();
    await expect.poll(() => giuliaRecords.getAttribute('aria-pressed')).toBe('true');
    await page.waitForTimeout(1_000); // long enough to make a voice note of
    await giuliaRecords.press('Escape');
    await expect.poll(() => giuliaRecords.getAttribute('aria-pressed')).toBe('false');
    await page.waitForTimeout(300); // a voice note that went anyway would be in her pane by now
    expect(await page.locator(`${giulia} .msgs > :not(.empty)`).count()).toBe(0);

    // WhatsApp: the same, through Twilio's webhook and media URLs.
    await recordVoiceNote(page, rahima);
    const waVoice = await arrived(page, rahima, whatsappGot, 1);
    expect(waVoice.mimeType).toMatch(/^audio\/ogg/);
    expectOggOpus(waVoice.bytes, [1, 2.5]);
    await expectBotMedia(page, rahima);
    await attach(page, rahima, { name: 'garden.png', mimeType: 'image/png', buffer: PNG }, 'our garden');
    expect(await arrived(page, rahima, whatsappGot, 2)).toMatchObject({ mimeType: 'image/png', caption: 'our garden', bytes: PNG });
    await attach(page, rahima, { name: 'letter.pdf', mimeType: 'application/pdf', buffer: PDF });
    expect(await arrived(page, rahima, whatsappGot, 3)).toMatchObject({ mimeType: 'application/pdf', bytes: PDF });
    expect(telegramGot.map((got) => got.kind)).toEqual(['voice', 'photo', 'document']); // Giulia's cancelled note never came
    expect(problems).toEqual([]);
    await page.waitForTimeout(100); // let the last tick settle
    mkdirSync('test/local/__screenshots__', { recursive: true });
    await page.screenshot({ path: 'test/local/__screenshots__/playground-media.png' });

    // A refusal from the control API is read in her pane, under what she tried to send.
    await page.route('**/_control/**/media', (route) => route.fulfill({ status: 400, json: { error: 'Bad Request: file is too big' } }));
    await attach(page, amina, { name: 'big.png', mimeType: 'image/png', buffer: PNG });
    const refused = page.locator(`${amina} .msg.me`, { hasText: 'not sent (400)' });
    expect(await refused.locator('.why').innerText()).toBe('Bad Request: file is too big');
    await context.close();
  });
});
