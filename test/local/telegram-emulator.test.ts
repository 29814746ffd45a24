import { afterEach, describe, expect, it } from 'vitest';
import { Bot, GrammyError, HttpError, InlineKeyboard, InputFile } from 'grammy';
import type { Update } from 'grammy/types';
import { run } from '@grammyjs/runner';
import { autoRetry } from '@grammyjs/auto-retry';
import { serveFetch } from '../../bot/http/node-adapter';
import { createTelegramEmulator, parseTelegramHtml, type TelegramEmulatorOptions } from '../../bot/local/telegram-emulator';

const TOKEN = '123456:TEST-token_abc';
const ALICE = { id: 1001, firstName: 'Alice', languageCode: 'it' };
const BOB = { id: 1002, firstName: 'Bob' };
const QUERY_TOO_OLD = 'Bad Request: query is too old and response timeout expired or query ID is invalid';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A listening emulator with one bot; flood limits are lifted unless a test sets them. */
async function start(opts: TelegramEmulatorOptions = {}) {
  const emulator = createTelegramEmulator({ limits: { globalPerSecond: 1000, perChatPerSecond: 1000 }, ...opts });
  const botInfo = emulator.addBot(TOKEN, { username: 'family_test_bot', firstName: 'Family' });
  const { apiRoot } = await emulator.listen();
  cleanups.push(() => emulator.close());
  const bot = new Bot(TOKEN, { client: { apiRoot }, botInfo });
  const call = async (method: string, body: Record<string, unknown> = {}, token = TOKEN) => {
    const res = await fetch(`${apiRoot}/bot${token}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { ok: boolean; result?: any; error_code?: number; description?: string; parameters?: { retry_after: number } } };
  };
  return { emulator, apiRoot, bot, botInfo, call };
}

async function eventually<T>(probe: () => T | undefined | false, timeoutMs = 3_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A webhook receiver on loopback that records what arrives and how many requests overlap. */
async function receiver(answer: (n: number, update: Update) => Response | Promise<Response> = () => new Response('ok')) {
  const got: { update: Update; secret: string | null }[] = [];
  let active = 0;
  let maxActive = 0;
  const served = await serveFetch(async (req) => {
    maxActive = Math.max(maxActive, ++active);
    const update = (await req.json()) as Update;
    got.push({ update, secret: req.headers.get('x-telegram-bot-api-secret-token') });
    try {
      return await answer(got.length - 1, update);
    } finally {
      active--;
    }
  });
  cleanups.push(() => served.close());
  return { url: `${served.url}/telegram/webhook`, got, maxActive: () => maxActive };
}

describe('the Telegram emulator with grammY as the client', () => {
  it('records a message with an inline keyboard that the bot sends', async () => {
    const { emulator, bot, botInfo } = await start();
    emulator.userSends(TOKEN, ALICE, 'hello');
    const keyboard = new InlineKeyboard().text('Sì', 'yes').text('No', 'no');
    const sent = await bot.api.sendMessage(ALICE.id, '<b>Ciao</b> &amp; benvenuta', { parse_mode: 'HTML', reply_markup: keyboard });

    expect(sent.message_id).toBe(2); // the user's message took id 1 in this chat
    expect(sent.text).toBe('Ciao & benvenuta');
    expect(sent.entities).toEqual([{ type: 'bold', offset: 0, length: 4 }]);
    expect(sent.from).toMatchObject({ id: 123456, is_bot: true, username: 'family_test_bot' });
    expect(botInfo.id).toBe(123456);
    const [recorded, ...rest] = emulator.chat(TOKEN, ALICE.id);
    expect(rest).toEqual([]);
    expect(recorded?.chat).toEqual({ id: ALICE.id, type: 'private', first_name: 'Alice' });
    expect(recorded?.reply_markup?.inline_keyboard).toEqual([[{ text: 'Sì', callback_data: 'yes' }, { text: 'No', callback_data: 'no' }]]);
  });

  it('delivers user messages to bot.start() long polling and records the replies', async () => {
    const { emulator, apiRoot } = await start();
    const bot = new Bot(TOKEN, { client: { apiRoot } }); // no botInfo: grammY calls getMe
    bot.command('start', (ctx) => ctx.reply('welcome'));
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text} (${ctx.from.language_code})`));
    await new Promise<void>((resolve) => void bot.start({ onStart: () => resolve() }));
    cleanups.push(() => bot.stop());

    const update = emulator.userSends(TOKEN, ALICE, '/start');
    expect(update.message?.entities).toEqual([{ type: 'bot_command', offset: 0, length: 6 }]);
    emulator.userSends(TOKEN, ALICE, 'hi');
    const replies = await emulator.waitForMessages(TOKEN, ALICE.id, 2);
    expect(replies.map((m) => m.text)).toEqual(['welcome', 'echo: hi (it)']);
    expect(emulator.stats().byMethod).toMatchObject({ getMe: 1, deleteWebhook: 1, sendMessage: 2 });
  });

  it('feeds @grammyjs/runner and records its reply', async () => {
    const { emulator, bot } = await start();
    bot.on('message:text', (ctx) => ctx.reply(`runner saw ${ctx.message.text}`));
    const runner = run(bot);
    cleanups.push(() => runner.isRunning() && runner.stop());
    emulator.userSends(TOKEN, BOB, 'ping');
    const [reply] = await emulator.waitForMessages(TOKEN, BOB.id, 1);
    expect(reply?.text).toBe('runner saw ping');
  });

  it('answers a button press and edits the message, which drops the keyboard', async () => {
    const { emulator, bot, call } = await start();
    bot.on('callback_query:data', async (ctx) => {
      await ctx.answerCallbackQuery({ text: `chose ${ctx.callbackQuery.data}` });
      await ctx.editMessageText('Thanks');
    });
    await new Promise<void>((resolve) => void bot.start({ onStart: () => resolve() }));
    cleanups.push(() => bot.stop());
    emulator.userSends(TOKEN, ALICE, 'hi');
    const question = await bot.api.sendMessage(ALICE.id, 'Pick one', { reply_markup: new InlineKeyboard().text('Yes', 'yes') });

    expect(() => emulator.userPresses(TOKEN, ALICE.id, question.message_id, 'maybe')).toThrow(/no button/);
    const press = emulator.userPresses(TOKEN, ALICE.id, question.message_id, 'yes');
    expect(press.callback_query).toMatchObject({ data: 'yes', from: { id: ALICE.id, is_bot: false }, message: { message_id: question.message_id } });
    const [answer] = await eventually(() => emulator.callbackAnswers(TOKEN).length === 1 && emulator.callbackAnswers(TOKEN));
    expect(answer).toEqual({ callbackQueryId: press.callback_query!.id, text: 'chose yes' });
    const edited = await eventually(() => emulator.chat(TOKEN, ALICE.id).find((m) => m.text === 'Thanks'));
    expect(edited.message_id).toBe(question.message_id);
    expect(edited.edit_date).toBeTypeOf('number');
    expect(edited.reply_markup).toBeUndefined();

    const again = await call('answerCallbackQuery', { callback_query_id: press.callback_query!.id });
    expect(again).toEqual({ status: 400, body: { ok: false, error_code: 400, description: QUERY_TOO_OLD } });
    expect((await call('answerCallbackQuery', { callback_query_id: '42' })).body.description).toBe(QUERY_TOO_OLD);
  });

  it('stores a document uploaded as multipart and accepts its file_id again', async () => {
    const { emulator, bot } = await start();
    emulator.userSends(TOKEN, ALICE, 'send me the report');
    const first = await bot.api.sendDocument(ALICE.id, new InputFile(Buffer.from('%PDF-1.4 test'), 'report.pdf'), { caption: 'Your report' });
    expect(first.document).toMatchObject({ file_name: 'report.pdf', file_size: 13, mime_type: 'application/pdf' });
    expect(first.caption).toBe('Your report');
    const second = await bot.api.sendDocument(ALICE.id, first.document.file_id);
    expect(second.document.file_id).toBe(first.document.file_id);
    await expect(bot.api.sendDocument(ALICE.id, 'not-a-file-id')).rejects.toThrow('wrong file identifier');
    expect(emulator.chat(TOKEN, ALICE.id).map((m) => m.document?.file_name)).toEqual(['report.pdf', 'report.pdf']);
  });
});

describe('webhook delivery', () => {
  it('posts updates one at a time, in order, with the secret header', async () => {
    const { emulator, bot } = await start();
    const hook = await receiver(async () => {
      await sleep(20);
      return new Response('ok');
    });
    await bot.api.setWebhook(hook.url, { secret_token: 's3cr3t-Token_1' });
    for (const text of ['one', 'two', 'three']) emulator.userSends(TOKEN, ALICE, text);

    await eventually(() => hook.got.length === 3);
    expect(hook.got.map((g) => g.update.message?.text)).toEqual(['one', 'two', 'three']);
    const ids = hook.got.map((g) => g.update.update_id);
    expect(ids).toEqual([ids[0], ids[0]! + 1, ids[0]! + 2]);
    expect(hook.got.every((g) => g.secret === 's3cr3t-Token_1')).toBe(true);
    expect(hook.maxActive()).toBe(1);
    await eventually(() => emulator.webhookInfo(TOKEN).pendingUpdateCount === 0);
    expect(emulator.webhookInfo(TOKEN)).toEqual({ url: hook.url, secretToken: 's3cr3t-Token_1', pendingUpdateCount: 0 });
  });

  it('redelivers an update the receiver answered with 500, before any later update', async () => {
    const { emulator, bot } = await start({ webhookRetryDelayMs: 50 });
    const hook = await receiver((n) => new Response(n === 0 ? 'boom' : 'ok', { status: n === 0 ? 500 : 200 }));
    await bot.api.setWebhook(hook.url);
    emulator.userSends(TOKEN, ALICE, 'first');
    emulator.userSends(TOKEN, ALICE, 'second');

    await eventually(() => hook.got.length === 3);
    expect(hook.got.map((g) => g.update.message?.text)).toEqual(['first', 'first', 'second']);
    expect(hook.got[0]!.update.update_id).toBe(hook.got[1]!.update.update_id);
    expect(hook.got[0]!.secret).toBeNull();
    expect(emulator.webhookInfo(TOKEN).lastErrorMessage).toBe('Wrong response from the webhook: 500 Internal Server Error');
    await eventually(() => emulator.webhookInfo(TOKEN).pendingUpdateCount === 0);
  });

  it('performs the method a webhook answers with', async () => {
    const { emulator, bot } = await start();
    const hook = await receiver((_n, update) =>
      Response.json({ method: 'sendMessage', chat_id: update.message!.chat.id, text: 'answered in the webhook reply' }),
    );
    await bot.api.setWebhook(hook.url);
    emulator.userSends(TOKEN, BOB, 'hi');
    const [reply] = await emulator.waitForMessages(TOKEN, BOB.id, 1);
    expect(reply?.text).toBe('answered in the webhook reply');
  });

  it('refuses getUpdates while a webhook is set and rejects a malformed secret', async () => {
    const { emulator, call } = await start();
    expect((await call('setWebhook', { url: 'http://127.0.0.1:9/hook', secret_token: 'not allowed!' })).status).toBe(400);
    expect(await call('setWebhook', { url: 'http://127.0.0.1:9/hook' })).toEqual({ status: 200, body: { ok: true, result: true, description: 'Webhook was set' } });
    emulator.userSends(TOKEN, ALICE, 'waiting');
    expect(await call('getUpdates')).toEqual({
      status: 409,
      body: { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" },
    });
    expect((await call('deleteWebhook')).body.description).toBe('Webhook was deleted');
    const polled = await call('getUpdates', { timeout: 0 });
    expect(polled.body.result.map((u: Update) => u.message?.text)).toEqual(['waiting']);
    const confirmed = await call('getUpdates', { offset: polled.body.result[0].update_id + 1 });
    expect(confirmed.body.result).toEqual([]);
  });
});

describe('long polling with getUpdates', () => {
  it('wakes a waiting poll when an update arrives, and ends the older of two concurrent polls with 409', async () => {
    const { emulator, call } = await start();
    const began = Date.now();
    const waiting = call('getUpdates', { timeout: 10 });
    await sleep(30);
    emulator.userSends(TOKEN, ALICE, 'wake up');
    const woken = await waiting;
    expect(woken.body.result.map((u: Update) => u.message?.text)).toEqual(['wake up']);
    expect(Date.now() - began).toBeLessThan(2_000);

    const older = call('getUpdates', { offset: woken.body.result[0].update_id + 1, timeout: 10 });
    await sleep(30);
    expect((await call('getUpdates', { timeout: 0 })).body.result).toEqual([]);
    expect(await older).toEqual({
      status: 409,
      body: { ok: false, error_code: 409, description: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running' },
    });
  });
});

describe('flood limits', () => {
  it('answers 429 to a second message to one chat within a second, and accepts it once the clock moves on', async () => {
    let t = 1_700_000_000_000;
    const { emulator, call, bot } = await start({ now: () => t, limits: { globalPerSecond: 30, perChatPerSecond: 1 } });
    emulator.userSends(TOKEN, ALICE, 'hi');
    const first = await call('sendMessage', { chat_id: ALICE.id, text: 'one' });
    expect(first.body.result.date).toBe(1_700_000_000);
    t += 400;
    expect(await call('sendMessage', { chat_id: ALICE.id, text: 'two' })).toEqual({
      status: 429,
      body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } },
    });
    const viaGrammy = await bot.api.sendMessage(ALICE.id, 'two').catch((e: unknown) => e);
    expect(viaGrammy).toBeInstanceOf(GrammyError);
    expect((viaGrammy as GrammyError).parameters.retry_after).toBe(1);
    expect((await call('getMe')).status).toBe(200); // not a sending method
    t += 600;
    expect((await call('sendMessage', { chat_id: ALICE.id, text: 'two' })).status).toBe(200);
    expect(emulator.chat(TOKEN, ALICE.id).map((m) => m.text)).toEqual(['one', 'two']);
    expect(emulator.stats().tooManyRequests).toBe(2);
  });

  it('limits the messages a bot sends across all chats in a second', async () => {
    let t = 1_700_000_000_000;
    const { emulator, call } = await start({ now: () => t, limits: { globalPerSecond: 3, perChatPerSecond: 1 } });
    const ids = [2001, 2002, 2003, 2004];
    for (const id of ids) emulator.userSends(TOKEN, { id }, 'hi');
    for (const id of ids.slice(0, 3)) expect((await call('sendMessage', { chat_id: id, text: 'news' })).status).toBe(200);
    const fourth = await call('sendMessage', { chat_id: 2004, text: 'news' });
    expect(fourth.status).toBe(429);
    expect(fourth.body.parameters).toEqual({ retry_after: 1 });
    t += 1000;
    expect((await call('sendMessage', { chat_id: 2004, text: 'news' })).status).toBe(200);
  });
});

describe('fault injection', () => {
  it('lets grammY with auto-retry deliver through three 429 answers', async () => {
    const { emulator, bot } = await start();
    bot.api.config.use(autoRetry({ maxRetryAttempts: 5 }));
    emulator.userSends(TOKEN, ALICE, 'hi');
    emulator.inject({ kind: '429', count: 3, retryAfter: 1, methods: ['sendMessage'] });
    await bot.api.sendMessage(ALICE.id, 'made it');
    expect(emulator.chat(TOKEN, ALICE.id).map((m) => m.text)).toEqual(['made it']);
    expect(emulator.stats()).toMatchObject({ tooManyRequests: 3, byMethod: { sendMessage: 4 } });
  }, 10_000);

  it('answers injected server errors only for the chosen methods', async () => {
    const { emulator, bot } = await start();
    emulator.userSends(TOKEN, ALICE, 'hi');
    emulator.inject({ kind: '5xx', count: 1, status: 502, methods: ['sendMessage'] });
    await expect(bot.api.getMe()).resolves.toMatchObject({ id: 123456 });
    const failure = await bot.api.sendMessage(ALICE.id, 'lost').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(GrammyError);
    expect((failure as GrammyError).error_code).toBe(502);
    await bot.api.sendMessage(ALICE.id, 'kept');
    expect(emulator.chat(TOKEN, ALICE.id).map((m) => m.text)).toEqual(['kept']);
    expect(emulator.stats().serverErrors).toBe(1);
  });

  it('slows a call down', async () => {
    const { emulator, bot } = await start();
    emulator.inject({ kind: 'slow', count: 1, delayMs: 250 });
    const began = Date.now();
    await bot.api.getMe();
    expect(Date.now() - began).toBeGreaterThanOrEqual(240);
  });

  it('drops the connection before performing the call', async () => {
    const { emulator, bot, call } = await start();
    emulator.userSends(TOKEN, ALICE, 'hi');
    emulator.inject({ kind: 'drop-before', count: 2 });
    await expect(call('sendMessage', { chat_id: ALICE.id, text: 'never' })).rejects.toThrow(TypeError); // fetch failed
    await expect(bot.api.sendMessage(ALICE.id, 'never')).rejects.toBeInstanceOf(HttpError);
    expect(emulator.chat(TOKEN, ALICE.id)).toEqual([]);
    expect(emulator.stats().dropped).toBe(2);
  });

  it('drops the connection after performing the call, so the message exists but the answer is lost', async () => {
    const { emulator, bot } = await start();
    emulator.userSends(TOKEN, ALICE, 'hi');
    emulator.inject({ kind: 'drop-after', count: 1, methods: ['sendMessage'] });
    await expect(bot.api.sendMessage(ALICE.id, 'sent twice?')).rejects.toBeInstanceOf(HttpError);
    expect(emulator.chat(TOKEN, ALICE.id).map((m) => m.text)).toEqual(['sent twice?']);
  });

  it('breaks the response body when a drop happens through the bare handler', async () => {
    const emulator = createTelegramEmulator();
    emulator.addBot(TOKEN);
    cleanups.push(() => emulator.close());
    emulator.inject({ kind: 'drop-before', count: 1 });
    const res = await emulator.handle(new Request(`http://local/bot${TOKEN}/getMe`), { remoteAddress: '127.0.0.1' });
    await expect(res.text()).rejects.toThrow('connection dropped');
  });
});

describe('Bot API errors', () => {
  it('answers 403 once the user blocked the bot or was deactivated', async () => {
    const { emulator, call } = await start();
    emulator.userSends(TOKEN, ALICE, 'hi');
    emulator.userSends(TOKEN, BOB, 'hi');
    emulator.blockBot(TOKEN, ALICE.id);
    expect(await call('sendMessage', { chat_id: ALICE.id, text: 'still there?' })).toEqual({
      status: 403,
      body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
    });
    emulator.deactivateUser(BOB.id);
    expect((await call('sendChatAction', { chat_id: BOB.id, action: 'typing' })).body.description).toBe('Forbidden: user is deactivated');
    emulator.userSends(TOKEN, ALICE, 'back again'); // writing again unblocks
    expect((await call('sendMessage', { chat_id: ALICE.id, text: 'welcome back' })).status).toBe(200);
  });

  it('answers chat not found, 401 for an unknown token and 404 for an unknown method', async () => {
    const { call } = await start();
    expect(await call('sendMessage', { chat_id: 555, text: 'hello?' })).toEqual({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } });
    expect(await call('getMe', {}, '999:nope')).toEqual({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } });
    expect(await call('sendCarrierPigeon')).toEqual({ status: 404, body: { ok: false, error_code: 404, description: 'Not Found' } });
    expect((await call('GETME')).status).toBe(200); // method names are case-insensitive
  });

  it('checks text length after entity parsing, empty text, HTML and button data', async () => {
    const { emulator, call } = await start();
    emulator.userSends(TOKEN, ALICE, 'hi');
    const send = (body: Record<string, unknown>) => call('sendMessage', { chat_id: ALICE.id, ...body });
    expect((await send({ text: 'x'.repeat(4096) })).status).toBe(200);
    expect(await send({ text: 'x'.repeat(4097) })).toEqual({ status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: message is too long' } });
    expect((await send({ text: `<b>${'x'.repeat(4096)}</b>`, parse_mode: 'HTML' })).status).toBe(200);
    expect((await send({ text: '  ' })).body.description).toBe('Bad Request: message text is empty');
    expect((await send({ text: '<b></b>', parse_mode: 'HTML' })).body.description).toBe('Bad Request: message text is empty');
    expect((await send({ text: '<b>bold', parse_mode: 'HTML' })).body.description).toBe(`Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`);
    expect((await send({ text: 'è<br>', parse_mode: 'HTML' })).body.description).toBe(`Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 2`);
    expect((await send({ text: '<b><i>x</b></i>', parse_mode: 'HTML' })).body.description).toBe(
      `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`,
    );
    const tooLongData = { inline_keyboard: [[{ text: 'A', callback_data: 'd'.repeat(65) }]] };
    expect((await send({ text: 'pick', reply_markup: tooLongData })).body.description).toBe('Bad Request: BUTTON_DATA_INVALID');
    const fits = { inline_keyboard: [[{ text: 'A', callback_data: 'é'.repeat(32) }]] }; // 64 bytes
    expect((await send({ text: 'pick', reply_markup: fits })).status).toBe(200);
  });

  it('parses the Telegram HTML subset into entities', () => {
    expect(parseTelegramHtml('<pre><code class="language-ts">let x</code></pre> &lt;3 &#128512; &nbsp;<a href="https://t.me">link</a>')).toEqual({
      text: 'let x <3 😀 &nbsp;link',
      entities: [
        { type: 'pre', offset: 0, length: 5, language: 'ts' },
        { type: 'text_link', offset: 18, length: 4, url: 'https://t.me' },
      ],
    });
  });

  it('accepts form-encoded and query-string calls and refuses an unmodified edit', async () => {
    const { emulator, apiRoot } = await start();
    emulator.userSends(TOKEN, ALICE, 'hi');
    const form = new URLSearchParams({ chat_id: String(ALICE.id), text: 'from a form', reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] }) });
    const sent = await (await fetch(`${apiRoot}/bot${TOKEN}/sendMessage`, { method: 'POST', body: form })).json();
    expect(sent.result.reply_markup.inline_keyboard[0][0].callback_data).toBe('go');
    const edit = `${apiRoot}/bot${TOKEN}/editMessageText?chat_id=${ALICE.id}&message_id=${sent.result.message_id}&text=from%20a%20form`;
    const unchangedButDropsKeyboard = await (await fetch(edit)).json();
    expect(unchangedButDropsKeyboard.ok).toBe(true);
    expect(unchangedButDropsKeyboard.result.reply_markup).toBeUndefined();
    const unchanged = await fetch(edit);
    expect(unchanged.status).toBe(400);
    expect((await unchanged.json()).description).toMatch(/^Bad Request: message is not modified/);
  });
});

describe('the playground control API', () => {
  it('writes, presses, long-polls and blocks, mounted under a base path', async () => {
    const emulator = createTelegramEmulator({ basePath: '/_emulator/telegram', limits: { globalPerSecond: 100, perChatPerSecond: 100 } });
    emulator.addBot(TOKEN);
    cleanups.push(() => emulator.close());
    const served = await serveFetch(emulator.handle);
    cleanups.push(() => served.close());
    const root = `${served.url}/_emulator/telegram`;
    const bot = new Bot(TOKEN, { client: { apiRoot: root }, botInfo: await new Bot(TOKEN, { client: { apiRoot: root } }).api.getMe() });
    const control = `${root}/_control/bots/${TOKEN}`;
    const post = (path: string, body: unknown = {}) => fetch(`${control}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const written = (await (await post(`/users/${ALICE.id}/messages`, { text: 'hello', firstName: 'Alice', languageCode: 'ar' })).json()) as Update;
    expect(written.message).toMatchObject({ text: 'hello', from: { id: ALICE.id, first_name: 'Alice', language_code: 'ar' } });

    const waiting = fetch(`${control}/chats/${ALICE.id}/messages?after=0&wait=5`).then((r) => r.json());
    await sleep(50);
    const question = await bot.api.sendMessage(ALICE.id, 'Pick', { reply_markup: new InlineKeyboard().text('Yes', 'yes') });
    const first = await waiting;
    expect(first.messages.map((m: { text: string }) => m.text)).toEqual(['Pick']);

    const pressed = (await (await post(`/users/${ALICE.id}/press`, { messageId: question.message_id, data: 'yes' })).json()) as Update;
    expect(pressed.callback_query?.data).toBe('yes');
    expect((await post(`/users/${ALICE.id}/press`, { messageId: question.message_id, data: 'nope' })).status).toBe(400);

    await bot.api.editMessageText(ALICE.id, question.message_id, 'Picked');
    const next = await (await fetch(`${control}/chats/${ALICE.id}/messages?after=${first.cursor}&wait=5`)).json();
    expect(next.messages).toMatchObject([{ message_id: question.message_id, text: 'Picked' }]);
    expect(next.cursor).toBeGreaterThan(first.cursor);
    const quiet = await (await fetch(`${control}/chats/${ALICE.id}/messages?after=${next.cursor}`)).json();
    expect(quiet).toEqual({ messages: [], cursor: next.cursor });

    expect((await post(`/users/${ALICE.id}/block`)).status).toBe(200);
    await expect(bot.api.sendMessage(ALICE.id, 'anyone?')).rejects.toThrow('Forbidden: bot was blocked by the user');
  });
});
