import { afterEach, describe, expect, it } from 'vitest';
import { Bot, GrammyError, InlineKeyboard, InputFile } from 'grammy';
import type { Message, Update } from 'grammy/types';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTelegramEmulator, type TelegramEmulatorOptions, type UserMedia } from '../../bot/local/telegram-emulator';

const TOKEN = '123456:MEDIA-token_abc';
const OTHER_TOKEN = '654321:OTHER-token_xyz';
const ALICE = { id: 1001, firstName: 'Alice', languageCode: 'it' };
const MB = 1024 * 1024;
const FIXED_NOW = Date.parse('2026-11-23T10:00:00+01:00');

/** A PNG signature and IHDR: enough for anything that reads the header. */
function png(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 2, 0, 0, 0], 16);
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), ihdr, Buffer.alloc(64, 7)]);
}
const OGG = Buffer.concat([Buffer.from('OggS', 'latin1'), Buffer.alloc(300, 1)]);
const MP3 = Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.alloc(500, 2)]);
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42', 'latin1'), Buffer.alloc(400, 3)]);
const WAV = Buffer.concat([Buffer.from('RIFF\x00\x00\x00\x00WAVE', 'latin1'), Buffer.alloc(200, 4)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A listening emulator with one bot and Alice's chat open; flood limits are lifted unless a test sets them. */
async function start(opts: TelegramEmulatorOptions = {}) {
  const emulator = createTelegramEmulator({ limits: { globalPerSecond: 1000, perChatPerSecond: 1000 }, now: () => FIXED_NOW, ...opts });
  const botInfo = emulator.addBot(TOKEN, { username: 'media_test_bot' });
  const { apiRoot } = await emulator.listen();
  cleanups.push(() => emulator.close());
  const bot = new Bot(TOKEN, { client: { apiRoot }, botInfo });
  emulator.userSends(TOKEN, ALICE, 'hi');
  /** getFile, then the file server, as a bot downloads a file */
  const download = async (fileId: string) => {
    const file = await bot.api.getFile(fileId);
    const res = await fetch(`${apiRoot}/file/bot${TOKEN}/${file.file_path}`);
    return { file, res, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  return { emulator, apiRoot, bot, download };
}

/** The Bot API's error for a call, or undefined when it succeeded. */
const apiError = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => (e instanceof GrammyError ? { code: e.error_code, description: e.description } : { thrown: String(e) }),
  );

/** The file id a message carries: the largest photo size or the one file. */
const fileIdOf = (m: Message) => m.photo?.at(-1)?.file_id ?? (m.voice ?? m.audio ?? m.video ?? m.document)!.file_id;

/** A tiny file server on loopback, for sends by URL. */
async function fileServer(files: Record<string, { type: string; bytes: Uint8Array }>) {
  const served = await serveFetch(async (req) => {
    const file = files[new URL(req.url).pathname];
    return file ? new Response(file.bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': file.type } }) : new Response('gone', { status: 404 });
  });
  cleanups.push(() => served.close());
  return served.url;
}

async function* chunksOf(bytes: Buffer, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
function streamOf(bytes: Buffer, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, (at += size)));
    },
  });
}

describe('the bot sends files', () => {
  it.each([
    ['a voice note', (bot: Bot) => bot.api.sendVoice(ALICE.id, new InputFile(OGG, 'note.ogg'), { duration: 7 }), OGG, 'audio/ogg', (m: Message) => expect(m.voice).toMatchObject({ duration: 7, mime_type: 'audio/ogg', file_size: OGG.length })],
    ['an MP3 voice note', (bot: Bot) => bot.api.sendVoice(ALICE.id, new InputFile(MP3, 'note.mp3')), MP3, 'audio/mpeg', (m: Message) => expect(m.voice).toMatchObject({ duration: 0, mime_type: 'audio/mpeg' })],
    ['a photo', (bot: Bot) => bot.api.sendPhoto(ALICE.id, new InputFile(png(1600, 1200), 'p.png')), png(1600, 1200), 'image/png', (m: Message) => expect(m.photo?.map((s) => [s.width, s.height])).toEqual([[90, 68], [320, 240], [800, 600], [1280, 960], [1600, 1200]])],
    ['a document with a keyboard', (bot: Bot) => bot.api.sendDocument(ALICE.id, new InputFile(PDF, 'report.pdf'), { reply_markup: new InlineKeyboard().text('Grazie', 'thanks') }), PDF, 'application/pdf', (m: Message) => {
      expect(m.document).toMatchObject({ file_name: 'report.pdf', mime_type: 'application/pdf', file_size: PDF.length });
      expect(m.reply_markup?.inline_keyboard).toEqual([[{ text: 'Grazie', callback_data: 'thanks' }]]);
    }],
    ['an audio', (bot: Bot) => bot.api.sendAudio(ALICE.id, new InputFile(MP3, 'song.mp3'), { duration: 30 }), MP3, 'audio/mpeg', (m: Message) => expect(m.audio).toMatchObject({ file_name: 'song.mp3', duration: 30, mime_type: 'audio/mpeg' })],
    ['a video', (bot: Bot) => bot.api.sendVideo(ALICE.id, new InputFile(MP4, 'clip.mp4'), { duration: 5, width: 640, height: 360 }), MP4, 'video/mp4', (m: Message) => expect(m.video).toMatchObject({ file_name: 'clip.mp4', duration: 5, width: 640, height: 360, mime_type: 'video/mp4' })],
  ])('uploads %s as multipart and gives the same bytes back through getFile', async (_what, send, bytes, type, check) => {
    const { bot, download } = await start();
    const sent = await send(bot);
    check(sent);
    expect(sent.date).toBe(FIXED_NOW / 1000);
    const { file, res, bytes: got } = await download(fileIdOf(sent));
    expect(file.file_size).toBe(bytes.length);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(got.equals(bytes)).toBe(true);
  });

  it('gives each photo size its own file_id and file_unique_id, the largest last', async () => {
    const { bot } = await start();
    const { photo } = await bot.api.sendPhoto(ALICE.id, new InputFile(png(4000, 3000)), { caption: '<b>Ecco</b>', parse_mode: 'HTML' });
    expect(photo.map((s) => s.width)).toEqual([90, 320, 800, 1280, 2560]);
    expect(new Set(photo.map((s) => s.file_id)).size).toBe(5);
    expect(new Set(photo.map((s) => s.file_unique_id)).size).toBe(5);
  });

  it.each([
    ['a ReadableStream', () => new InputFile(streamOf(OGG, 64) as unknown as AsyncIterable<Uint8Array>, 'stream.ogg')],
    ['an async iterable', () => new InputFile(chunksOf(OGG, 100), 'iterable.ogg')],
  ])('takes an InputFile from %s', async (_what, input) => {
    const { bot, download } = await start();
    const sent = await bot.api.sendVoice(ALICE.id, input());
    expect(sent.voice.file_size).toBe(OGG.length);
    expect((await download(sent.voice.file_id)).bytes.equals(OGG)).toBe(true);
  });

  it('sends a file again by its file_id without an upload, and only to the bot that has it', async () => {
    const { emulator, bot, apiRoot } = await start();
    const first = await bot.api.sendVoice(ALICE.id, new InputFile(OGG, 'note.ogg'), { duration: 3 });
    const again = await bot.api.sendVoice(ALICE.id, first.voice.file_id, { caption: 'di nuovo' });
    expect(again.voice).toEqual(first.voice);
    expect(again.caption).toBe('di nuovo');

    const photo = await bot.api.sendPhoto(ALICE.id, new InputFile(png(100, 100)));
    const photoAgain = await bot.api.sendPhoto(ALICE.id, photo.photo[0]!.file_id);
    expect(photoAgain.photo).toEqual(photo.photo);

    emulator.addBot(OTHER_TOKEN);
    emulator.userSends(OTHER_TOKEN, ALICE, 'hi');
    const other = new Bot(OTHER_TOKEN, { client: { apiRoot }, botInfo: emulator.addBot(OTHER_TOKEN) });
    expect(await apiError(other.api.sendVoice(ALICE.id, first.voice.file_id))).toEqual({ code: 400, description: 'Bad Request: wrong file identifier/HTTP URL specified' });
    expect(await apiError(other.api.getFile(first.voice.file_id))).toEqual({ code: 400, description: 'Bad Request: invalid file_id' });
    expect(await apiError(bot.api.sendDocument(ALICE.id, photo.photo[0]!.file_id))).toEqual({ code: 400, description: 'Bad Request: type of file mismatch' });
    expect(await apiError(bot.api.sendPhoto(ALICE.id, first.voice.file_id))).toEqual({ code: 400, description: 'Bad Request: type of file mismatch' });
  });

  it.each([
    ['a WAV voice note arrives as a document', (bot: Bot) => bot.api.sendVoice(ALICE.id, new InputFile(WAV, 'memo.wav')), (m: Message) => expect([m.voice, m.document?.mime_type]).toEqual([undefined, 'audio/wav'])],
    ['an OGG audio arrives as a document', (bot: Bot) => bot.api.sendAudio(ALICE.id, new InputFile(OGG, 'x.ogg')), (m: Message) => expect([m.audio, m.document?.mime_type]).toEqual([undefined, 'audio/ogg'])],
    ['a video that is not MPEG4 arrives as a document', (bot: Bot) => bot.api.sendVideo(ALICE.id, new InputFile(Buffer.from('webm?'), 'clip.webm')), (m: Message) => expect([m.video, m.document?.mime_type]).toEqual([undefined, 'video/webm'])],
  ])('shows only formats Telegram plays: %s', async (_what, send, check) => {
    const { bot } = await start();
    check(await send(bot));
  });
});

describe('the Bot API limits on files', () => {
  it.each([
    ['a photo over 10 MB', (bot: Bot) => bot.api.sendPhoto(ALICE.id, new InputFile(Buffer.concat([png(800, 600), Buffer.alloc(11 * MB)]), 'big.png')), 400, 'Bad Request: file is too big'],
    ['a photo that is a PDF', (bot: Bot) => bot.api.sendPhoto(ALICE.id, new InputFile(PDF, 'report.pdf')), 400, 'Bad Request: IMAGE_PROCESS_FAILED'],
    ['a photo 30 times wider than high', (bot: Bot) => bot.api.sendPhoto(ALICE.id, new InputFile(png(3000, 100), 'strip.png')), 400, 'Bad Request: PHOTO_INVALID_DIMENSIONS'],
    ['a file part over 50 MB', (bot: Bot) => bot.api.sendDocument(ALICE.id, new InputFile(Buffer.alloc(50 * MB + 1000), 'backup.zip')), 413, 'Request Entity Too Large'],
    ['a request body over 51 MB', (bot: Bot) => bot.api.sendDocument(ALICE.id, new InputFile(Buffer.alloc(52 * MB), 'backup.zip')), 413, 'Request Entity Too Large'],
    ['an empty file', (bot: Bot) => bot.api.sendDocument(ALICE.id, new InputFile(Buffer.alloc(0), 'empty.txt')), 400, 'Bad Request: file must be non-empty'],
    ['a caption over 1024 characters after entity parsing', (bot: Bot) => bot.api.sendVoice(ALICE.id, new InputFile(OGG), { caption: `<b>${'x'.repeat(1025)}</b>`, parse_mode: 'HTML' }), 400, 'Bad Request: message caption is too long'],
    ['a file_id nobody gave out', (bot: Bot) => bot.api.sendVoice(ALICE.id, 'AwACAgIAAxkBAAInvented'), 400, 'Bad Request: wrong file identifier/HTTP URL specified'],
  ])('refuses %s', async (_what, send, code, description) => {
    const { emulator, bot } = await start();
    expect(await apiError(send(bot))).toEqual({ code, description });
    expect(emulator.chat(TOKEN, ALICE.id)).toEqual([]);
  });

  it('accepts a caption of 1024 characters once the HTML is parsed', async () => {
    const { bot } = await start();
    const sent = await bot.api.sendVoice(ALICE.id, new InputFile(OGG), { caption: `<b>${'x'.repeat(1024)}</b>`, parse_mode: 'HTML' });
    expect(sent.caption_entities).toEqual([{ type: 'bold', offset: 0, length: 1024 }]);
  });

  it('says a file is there but too big to download past 20 MB', async () => {
    const { emulator, bot, download } = await start();
    const atLimit = Buffer.alloc(20 * MB, 5);
    const fits = emulator.userSendsMedia(TOKEN, ALICE, { kind: 'document', bytes: atLimit, fileName: 'scan.pdf' }).message!;
    const got = await download(fits.document!.file_id);
    expect(got.res.headers.get('content-length')).toBe(String(20 * MB));
    expect(got.bytes.equals(atLimit)).toBe(true);

    const over = emulator.userSendsMedia(TOKEN, ALICE, { kind: 'video', bytes: Buffer.alloc(21 * MB), fileName: 'party.mp4' }).message!;
    expect(over.video?.file_size).toBe(21 * MB);
    expect(await apiError(bot.api.getFile(over.video!.file_id))).toEqual({ code: 400, description: 'Bad Request: file is too big' });
  });

  it('refuses a request with no file at all', async () => {
    const { apiRoot } = await start();
    const res = await fetch(`${apiRoot}/bot${TOKEN}/sendPhoto`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: ALICE.id }) });
    expect(await res.json()).toEqual({ ok: false, error_code: 400, description: 'Bad Request: there is no photo in the request' });
  });

  it('answers 404 on the file server for a wrong token or path', async () => {
    const { apiRoot, bot } = await start();
    const sent = await bot.api.sendDocument(ALICE.id, new InputFile(PDF, 'report.pdf'));
    const { file_path } = await bot.api.getFile(sent.document.file_id);
    expect((await fetch(`${apiRoot}/file/bot${TOKEN}/${file_path}`)).status).toBe(200);
    expect((await fetch(`${apiRoot}/file/bot${OTHER_TOKEN}/${file_path}`)).status).toBe(404);
    expect((await fetch(`${apiRoot}/file/bot${TOKEN}/documents/file_99.pdf`)).status).toBe(404);
  });

  it('counts file sends against the flood limits and lets faults name them', async () => {
    let t = FIXED_NOW;
    const { emulator, bot } = await start({ now: () => t, limits: { globalPerSecond: 30, perChatPerSecond: 1 } });
    await bot.api.sendMessage(ALICE.id, 'one');
    expect(await apiError(bot.api.sendVoice(ALICE.id, new InputFile(OGG)))).toEqual({ code: 429, description: 'Too Many Requests: retry after 1' });
    t += 1000;
    emulator.inject({ kind: '5xx', count: 1, status: 502, methods: ['sendPhoto'] });
    expect(await apiError(bot.api.sendPhoto(ALICE.id, new InputFile(png(10, 10))))).toEqual({ code: 502, description: 'Bad Gateway' });
    await bot.api.sendPhoto(ALICE.id, new InputFile(png(10, 10)));
    expect(emulator.stats().byMethod).toMatchObject({ sendMessage: 1, sendVoice: 1, sendPhoto: 2 });
  });
});

describe('files Telegram fetches from a URL', () => {
  const files = {
    '/voice.ogg': { type: 'audio/ogg', bytes: OGG },
    '/long-voice.ogg': { type: 'audio/ogg', bytes: Buffer.concat([OGG, Buffer.alloc(2 * MB)]) },
    '/photo.png': { type: 'image/png', bytes: png(640, 480) },
    '/huge.png': { type: 'image/png', bytes: Buffer.concat([png(640, 480), Buffer.alloc(6 * MB)]) },
    '/page.html': { type: 'text/html', bytes: Buffer.from('<html>hello</html>') },
    '/report.pdf': { type: 'application/pdf', bytes: PDF },
    '/notes.txt': { type: 'text/plain', bytes: Buffer.from('notes') },
    '/movie.mp4': { type: 'video/mp4', bytes: Buffer.concat([MP4, Buffer.alloc(21 * MB)]) },
  };

  it.each([
    ['a voice note', 'sendVoice', '/voice.ogg', (m: Message) => expect(m.voice).toMatchObject({ mime_type: 'audio/ogg', file_size: OGG.length })],
    ['a voice note over 1 MB, which arrives as a document', 'sendVoice', '/long-voice.ogg', (m: Message) => expect(m.document).toMatchObject({ file_name: 'long-voice.ogg', mime_type: 'audio/ogg' })],
    ['a photo', 'sendPhoto', '/photo.png', (m: Message) => expect(m.photo?.at(-1)).toMatchObject({ width: 640, height: 480 })],
    ['a PDF document', 'sendDocument', '/report.pdf', (m: Message) => expect(m.document).toMatchObject({ file_name: 'report.pdf', mime_type: 'application/pdf', file_size: PDF.length })],
  ] as const)('sends %s', async (_what, method, path, check) => {
    const { bot, download } = await start();
    const base = await fileServer(files);
    const sent = (await bot.api.raw[method]({ chat_id: ALICE.id, [method.slice(4).toLowerCase()]: `${base}${path}` } as never)) as Message;
    check(sent);
    expect((await download(fileIdOf(sent))).bytes.equals(files[path].bytes)).toBe(true);
  });

  it.each([
    ['a photo over 5 MB', 'sendPhoto', '/huge.png', 'Bad Request: failed to get HTTP URL content'],
    ['a video over 20 MB', 'sendVideo', '/movie.mp4', 'Bad Request: failed to get HTTP URL content'],
    ['a page that is not an image', 'sendPhoto', '/page.html', 'Bad Request: wrong type of the web page content'],
    ['a text file as a document', 'sendDocument', '/notes.txt', 'Bad Request: wrong file identifier/HTTP URL specified'],
    ['a missing file', 'sendVoice', '/missing.ogg', 'Bad Request: failed to get HTTP URL content'],
  ] as const)('refuses %s', async (_what, method, path, description) => {
    const { bot } = await start();
    const base = await fileServer(files);
    const sent = bot.api.raw[method]({ chat_id: ALICE.id, [method.slice(4).toLowerCase()]: `${base}${path}` } as never);
    expect(await apiError(sent)).toEqual({ code: 400, description });
  });

  it('refuses an unreachable URL', async () => {
    const { bot } = await start();
    const closed = await serveFetch(async () => new Response('never'));
    await closed.close();
    expect(await apiError(bot.api.sendVoice(ALICE.id, `${closed.url}/voice.ogg`))).toEqual({ code: 400, description: 'Bad Request: failed to get HTTP URL content' });
  });
});

describe('users send files', () => {
  const user = (media: UserMedia) => media;
  it.each([
    ['a voice note', user({ kind: 'voice', bytes: OGG, duration: 9, caption: 'ascolta /help' }), (m: Message) => {
      expect(m.voice).toMatchObject({ duration: 9, mime_type: 'audio/ogg', file_size: OGG.length });
      expect(m.caption_entities).toEqual([{ type: 'bot_command', offset: 8, length: 5 }]);
    }],
    ['a photo', user({ kind: 'photo', bytes: png(1280, 720), caption: 'la ricetta' }), (m: Message) => expect(m.photo?.map((s) => s.width)).toEqual([90, 320, 800, 1280])],
    ['a document', user({ kind: 'document', bytes: PDF, fileName: 'certificato.pdf' }), (m: Message) => expect(m.document).toMatchObject({ file_name: 'certificato.pdf', mime_type: 'application/pdf', file_size: PDF.length })],
    ['an audio', user({ kind: 'audio', bytes: MP3, fileName: 'ninna-nanna.mp3', duration: 60 }), (m: Message) => expect(m.audio).toMatchObject({ file_name: 'ninna-nanna.mp3', mime_type: 'audio/mpeg', duration: 60 })],
    ['a video', user({ kind: 'video', bytes: MP4, duration: 4 }), (m: Message) => expect(m.video).toMatchObject({ mime_type: 'video/mp4', duration: 4, file_size: MP4.length })],
  ])('delivers %s as the Bot API does, with a caption and no text', async (_what, media, check) => {
    const { emulator, bot, download } = await start();
    // her earlier 'hi' comes first; the file is the message without text
    const received = new Promise<Update>((resolve) => bot.on('message', (ctx) => void (ctx.message.text === undefined && resolve(ctx.update))));
    void bot.start();
    cleanups.push(() => bot.stop());
    const update = emulator.userSendsMedia(TOKEN, ALICE, media);
    const message = (await received).message!;
    expect(message).toEqual(update.message);
    expect(message.text).toBeUndefined();
    expect(message.caption).toBe(media.caption);
    expect(message.from).toMatchObject({ id: ALICE.id, first_name: 'Alice', language_code: 'it' });
    check(message);
    expect((await download(fileIdOf(message))).bytes.equals(media.bytes)).toBe(true);
  });

  it('gives the voice note of userSends real Ogg bytes', async () => {
    const { emulator, download } = await start();
    const { message } = emulator.userSends(TOKEN, ALICE, 'he hit me', { duration: 12 });
    expect(message).toMatchObject({ caption: 'he hit me', voice: { duration: 12, mime_type: 'audio/ogg' } });
    expect(message?.text).toBeUndefined();
    const { bytes, file } = await download(message!.voice!.file_id);
    expect(bytes.toString('latin1', 0, 4)).toBe('OggS');
    expect(bytes.toString('latin1', 28, 36)).toBe('OpusHead');
    expect(file.file_path).toMatch(/^voice\/file_\d+\.oga$/);
    expect(Buffer.from(emulator.file(TOKEN, message!.voice!.file_id)!.bytes).equals(bytes)).toBe(true);
  });

  it('refuses a file without bytes', async () => {
    const { emulator } = await start();
    expect(() => emulator.userSendsMedia(TOKEN, ALICE, { kind: 'photo', bytes: new Uint8Array(0) })).toThrow('a file needs its bytes');
  });
});

describe('the playground control API for files', () => {
  async function startMounted() {
    const emulator = createTelegramEmulator({ basePath: '/_emulator/telegram', limits: { globalPerSecond: 100, perChatPerSecond: 100 }, now: () => FIXED_NOW });
    const botInfo = emulator.addBot(TOKEN);
    const { apiRoot } = await emulator.listen();
    cleanups.push(() => emulator.close());
    const origin = new URL(apiRoot).origin;
    const control = `${apiRoot}/_control/bots/${TOKEN}`;
    return { emulator, origin, control, bot: new Bot(TOKEN, { client: { apiRoot }, botInfo }) };
  }
  const form = (fields: Record<string, string | Blob>, fileName = 'nota.ogg') => {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === 'string') body.append(k, v);
      else body.append(k, v, fileName);
    }
    return body;
  };

  it('takes a file from the page as her message, which the bot can download', async () => {
    const { control, bot } = await startMounted();
    const file = new Blob([OGG], { type: 'audio/ogg;codecs=opus' });
    const res = await fetch(`${control}/users/${ALICE.id}/media`, { method: 'POST', body: form({ file, kind: 'voice', caption: 'ciao', duration: '4.6', firstName: 'Alice', languageCode: 'ar' }) });
    expect(res.status).toBe(200);
    const update = (await res.json()) as Update;
    expect(update.message).toMatchObject({ caption: 'ciao', voice: { duration: 5, mime_type: 'audio/ogg', file_size: OGG.length }, from: { first_name: 'Alice', language_code: 'ar' } });
    const fetched = await bot.api.getFile(update.message!.voice!.file_id);
    expect(fetched.file_size).toBe(OGG.length);
  });

  it.each([
    ['no file', { kind: 'voice' }, 'file is required (multipart/form-data)'],
    ['an unknown kind', { kind: 'sticker', file: new Blob([OGG]) }, 'kind must be one of photo, voice, audio, document, video'],
    ['a duration that is not a number', { kind: 'voice', duration: 'long', file: new Blob([OGG]) }, 'duration must be a number of seconds'],
  ])('answers 400 for %s', async (_what, fields, error) => {
    const { control } = await startMounted();
    const res = await fetch(`${control}/users/${ALICE.id}/media`, { method: 'POST', body: form(fields) });
    expect([res.status, await res.json()]).toEqual([400, { error }]);
  });

  it('shows the files the bot sent with a URL that serves their bytes', async () => {
    const { emulator, origin, control, bot } = await startMounted();
    emulator.userSends(TOKEN, ALICE, 'hi');
    await bot.api.sendMessage(ALICE.id, 'just words');
    await bot.api.sendPhoto(ALICE.id, new InputFile(png(200, 100), 'pic.png'));
    await bot.api.sendDocument(ALICE.id, new InputFile(PDF, 'report.pdf'));
    await bot.api.sendVoice(ALICE.id, new InputFile(OGG, 'reply.ogg'));
    const { messages } = (await (await fetch(`${control}/chats/${ALICE.id}/messages?after=0`)).json()) as { messages: (Message & { media?: Record<string, unknown> })[] };
    const withoutUrl = (media?: Record<string, unknown>) => media && Object.fromEntries(Object.entries(media).filter(([k]) => k !== 'url'));
    expect(messages.map((m) => withoutUrl(m.media))).toEqual([
      undefined,
      { kind: 'photo', mimeType: 'image/png', size: png(200, 100).length }, // a photo has no file name
      { kind: 'document', mimeType: 'application/pdf', fileName: 'report.pdf', size: PDF.length },
      { kind: 'voice', mimeType: 'audio/ogg', fileName: 'reply.ogg', size: OGG.length },
    ]);
    for (const [m, bytes] of [[messages[1]!, png(200, 100)], [messages[2]!, PDF], [messages[3]!, OGG]] as const) {
      expect(m.media!.url).toBe(`/_emulator/telegram/_control/bots/${TOKEN}/files/${fileIdOf(m)}`);
      const res = await fetch(`${origin}${String(m.media!.url)}`);
      expect([res.status, res.headers.get('content-type'), res.headers.get('content-length')]).toEqual([200, m.media!.mimeType, String(bytes.length)]);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }
    expect((await fetch(`${control}/files/unknown`)).status).toBe(404);
  });
});
