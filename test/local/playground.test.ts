import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Bot, InlineKeyboard } from 'grammy';
import { autoRetry } from '@grammyjs/auto-retry';
import { serveFetch, type ServedHandler } from '../../bot/http/node-adapter';
import { createTwilioEmulator, type TwilioEmulator } from '../../bot/local/twilio-emulator';
import { createTelegramEmulator, type TelegramEmulator } from '../../bot/local/telegram-emulator';
import { playgroundHandler } from '../../bot/local/playground';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const MISSING = `Chromium is not installed at ${CHROMIUM}: install it with \`apt-get install chromium\` to run the playground's browser test`;

const BOT_TOKEN = '123456789:playground-test-token';
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

describe('playgroundHandler', () => {
  const handle = playgroundHandler({ ...OPTIONS, whatsappSender: '</script><!--$&' });

  it('serves the page with its settings, no caching and a nonce-based CSP', async () => {
    const res = await handle(new Request('http://localhost/'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("img-src 'self' data: blob:"); // what the person sent shows from the page's own copy
    expect(csp).toContain("media-src 'self' blob:");
    const html = await res.text();
    expect(html).toContain(`<script type="module" nonce="${nonce}">`);
    expect(html).toContain(`<style nonce="${nonce}">`);
    expect(html).not.toContain('__NONCE__');
    const config = /<script type="application\/json" id="config">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect(JSON.parse(config)).toEqual({ ...OPTIONS, whatsappSender: '</script><!--$&' });
    const again = await handle(new Request('http://localhost/'));
    expect(again.headers.get('content-security-policy')).not.toBe(csp); // a fresh nonce each time
  });

  it('answers only GET and HEAD at /', async () => {
    expect((await handle(new Request('http://localhost/elsewhere'))).status).toBe(404);
    const post = await handle(new Request('http://localhost/', { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

it.runIf(!haveChromium)('has Chromium for the browser test', ({ skip }) => {
  if (process.env.CI) throw new Error(MISSING);
  console.warn(MISSING);
  skip(MISSING);
});

describe.skipIf(!haveChromium)('playground in Chromium', () => {
  let server: ServedHandler;
  let telegram: TelegramEmulator;
  let whatsapp: TwilioEmulator;
  let bot: Bot;
  let browser: Browser;
  const telegramSenders: { firstName: string; languageCode?: string }[] = [];
  const whatsappInbound: URLSearchParams[] = [];

  /** The stand-in bot on WhatsApp: answers every inbound message through the REST API, as the real one does. */
  async function whatsappWebhook(req: Request): Promise<Response> {
    const form = new URLSearchParams(await req.text());
    whatsappInbound.push(form);
    const body = form.get('NumMedia') !== '0' ? `got ${form.get('MediaContentType0')}` : `echo: ${form.get('Body')}`;
    const res = await fetch(`${server.url}/_emulator/twilio/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64')}` },
      body: new URLSearchParams({ From: SENDER, To: form.get('From')!, Body: `${body}\n1. A\n2. B` }),
    });
    if (res.status !== 201) throw new Error(`the emulator refused the reply: ${res.status} ${await res.text()}`);
    return new Response('<Response/>', { headers: { 'content-type': 'text/xml' } });
  }

  beforeAll(async () => {
    whatsapp = createTwilioEmulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, senders: [SENDER], basePath: '/_emulator/twilio' });
    telegram = createTelegramEmulator({ basePath: '/_emulator/telegram' });
    telegram.addBot(BOT_TOKEN, { username: 'echo_bot' });
    const playground = playgroundHandler(OPTIONS);
    server = await serveFetch(async (req, info) => {
      const { pathname } = new URL(req.url);
      if (pathname.startsWith('/_emulator/twilio/')) return whatsapp.handle(req, info);
      if (pathname.startsWith('/_emulator/telegram/')) return telegram.handle(req, info);
      if (pathname === '/whatsapp/webhook') return whatsappWebhook(req);
      return playground(req);
    });
    whatsapp.setIncomingWebhookUrl(`${server.url}/whatsapp/webhook`);

    bot = new Bot(BOT_TOKEN, { client: { apiRoot: `${server.url}/_emulator/telegram` } });
    bot.api.config.use(autoRetry()); // the emulator holds bots to Telegram's one message per second per chat
    bot.on('message:text', async (ctx) => {
      telegramSenders.push({ firstName: ctx.from.first_name, languageCode: ctx.from.language_code });
      await ctx.reply(`echo: ${ctx.message.text}`, { reply_markup: new InlineKeyboard().text('A', 'A').text('B', 'B') });
    });
    bot.on('callback_query:data', async (ctx) => {
      await ctx.answerCallbackQuery();
      await ctx.reply(`pressed ${ctx.callbackQuery.data}`);
    });
    bot.catch((err) => console.error('echo bot:', err.error));
    await new Promise<void>((resolve, reject) => {
      bot.start({ timeout: 10, onStart: () => resolve() }).catch(reject);
    });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await bot?.stop();
    await server?.close();
    await telegram?.close();
    await whatsapp?.close();
  });

  async function say(page: Page, phone: string, text: string) {
    const input = page.locator(phone).getByRole('textbox', { name: 'Message' });
    await input.fill(text);
    await input.press('Enter');
  }
  const direction = (page: Page, selector: string, text: string) =>
    page.locator(selector, { hasText: text }).evaluate((el) => getComputedStyle(el).direction);

  it('chats as a Telegram mother and a WhatsApp mother on a phone-sized screen', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 640 }, locale: 'en-GB' });
    page.setDefaultTimeout(8_000);
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text()))); // CSP violations land here
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(server.url);

    // Telegram: text, then an inline button.
    const amina = '.phone[data-key="tg:1001"]';
    await say(page, amina, 'hello');
    await page.locator(`${amina} .msg.bot .bubble`, { hasText: 'echo: hello' }).waitFor();
    expect(telegramSenders).toContainEqual({ firstName: 'Amina', languageCode: 'ar' });
    await page.locator(amina).getByRole('button', { name: 'A', exact: true }).click();
    await page.locator(`${amina} .msg.bot .bubble`, { hasText: 'pressed A' }).waitFor();

    // WhatsApp: switch phones, answer a numbered choice, see the reply get read, attach a photo.
    await page.getByRole('button', { name: /Rahima/ }).click();
    expect(await page.locator(amina).isVisible()).toBe(false);
    const rahima = '.phone[data-key="wa:+8801711111111"]';
    await say(page, rahima, '2');
    const reply = page.locator(`${rahima} .msg.bot`, { hasText: 'echo: 2' });
    expect(await reply.locator('.bubble').innerText()).toMatch(/^echo: 2\n1\. A\n2\. B/);
    await page.locator(`${rahima} .msg.bot[data-status="read"]`, { hasText: 'echo: 2' }).waitFor(); // she is looking at it
    expect(whatsappInbound.at(-1)?.get('ProfileName')).toBe('Rahima');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator(rahima).getByRole('button', { name: 'Attach' }).click()]);
    await chooser.setFiles({ name: 'photo.png', mimeType: 'image/png', buffer: PNG });
    await page.locator(`${rahima} .msg.bot`, { hasText: 'got image/png' }).waitFor();

    // Right-to-left: her Arabic is RTL even with digits and Latin inside; the Latin-first echo stays LTR.
    const arabic = 'مرحبا، موعد اللقاح الساعة 10:30 مع Dr. Rossi';
    await say(page, rahima, arabic);
    await page.locator(`${rahima} .msg.bot`, { hasText: `echo: ${arabic}` }).waitFor();
    expect(await direction(page, `${rahima} .msg.me .bubble`, arabic)).toBe('rtl');
    expect(await direction(page, `${rahima} .msg.bot .bubble`, `echo: ${arabic}`)).toBe('ltr');
    expect(await page.locator(rahima).getByRole('textbox', { name: 'Message' }).getAttribute('dir')).toBe('auto');

    // A message the provider fails is marked in place, with its error code.
    const last = whatsapp.messagesTo('+8801711111111').at(-1)!;
    whatsapp.setMessageStatus(last.sid, 'failed', 63016);
    await page.locator(`${rahima} .msg.bot[data-status="failed"]`, { hasText: 'failed (63016)' }).waitFor();
    expect(await page.locator(`${rahima} .msg.bot`).count()).toBe(3);

    await page.waitForTimeout(100); // let the last tick settle
    mkdirSync('test/local/__screenshots__', { recursive: true });
    await page.screenshot({ path: 'test/local/__screenshots__/playground.png' });
    await page.setViewportSize({ width: 1440, height: 800 });
    await page.locator(amina).waitFor(); // desktop: phones side by side
    await page.screenshot({ path: 'test/local/__screenshots__/playground-desktop.png' });
    expect(await page.locator('#offline').isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows an offline banner while the emulators are unreachable, and recovers', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 640 } });
    page.setDefaultTimeout(8_000);
    await page.route('**/_control/**', (route) => route.abort('connectionrefused'));
    await page.goto(server.url);
    await page.locator('#offline', { hasText: 'Offline' }).waitFor();
    await page.unroute('**/_control/**');
    await page.locator('#offline').waitFor({ state: 'hidden' });
    await page.locator('.phone[data-key="tg:1001"] .msg.bot', { hasText: 'pressed A' }).waitFor(); // history comes back
    await page.close();
  });
});
