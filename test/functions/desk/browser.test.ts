import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { addDays, format, subDays } from 'date-fns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, haveChromium, launchChromium } from '../../support/browser';
import { createTranslator } from '../../../bot/i18n';
import { createDeskTranslator } from '../../../functions/desk/i18n';
import { formatDate } from '../../../bot/core/format';
import { inRome } from '../../../bot/time';
import { freePort, runScript, waitForHealthy } from '../../support/processes';

const i18n = createTranslator();
const bot = i18n.t('it');
const desk = createDeskTranslator()('it');

chromiumOrSkip('the desk\'s browser test');

/** A page on another site with the link on it: opening it is the cross-site navigation a chat app makes. */
async function chatAppPage(link: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>chat</title><p>Marco: <a id="link" href="${link}">${link}</a></p>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

/** Every canvas on the page has drawn something: some pixel is not transparent. */
const drawnCanvases = (page: Page) => page.evaluate(() => [...document.querySelectorAll('canvas')].map((c) => {
  const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
}));

/** `npm start` with no credentials: a coordinator in the playground asks for /desk and opens the desk from the link. */
describe.skipIf(!haveChromium)('the desk from the playground, in a real browser', () => {
  let server: ReturnType<typeof runScript>;
  let browser: Browser;
  let base: string;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'familybot-desk-'));
    const port = await freePort();
    base = `http://localhost:${port}`;
    env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
    server = runScript('functions/main.ts', [], env);
    await waitForHealthy(`${base}/healthz`, 60_000);
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.done;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('signs Marco in from a link opened on another site; he sees the charts drawn, changes a call\'s closing date that a mother\'s nido menu then shows, and sends a notice to one language and reads its report', async () => {
    // twelve families imported as a tutor would (the server runs on the system clock, so birth dates are relative to today)
    const file = join(dataDir, 'families.csv');
    const born = (n: number) => format(subDays(new Date(), 40 + n * 30), 'yyyy-MM-dd');
    await writeFile(file, ['phone,telegram_id,language,district,tutor_email,child_name,child_birth_date,consent',
      // Rahima, the playground's WhatsApp mother, is one of them (consent on paper)
      `+8801711111111,,bn,milano-2,,Rafi,${born(3)},yes`,
      ...Array.from({ length: 11 }, (_, i) => `+3933300000${String(i).padStart(2, '0')},,${i % 2 ? 'ar' : 'bn'},milano-2,,Bimbo ${i},${born(i)},yes`)].join('\n'));
    const imported = await runScript('functions/cli/import.ts', ['families', file], env).done;
    expect(imported.code, imported.stderr).toBe(0);

    const invited = runScript('functions/cli/admin.ts', ['create-coordinator', '--name', 'Marco Rossi'], env);
    const out = await invited.done;
    expect(out.code, out.stderr).toBe(0);
    const { code } = JSON.parse(out.stdout) as { code: string };

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'it-IT' });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    const marco = '.phone[data-key="tg:3001"]';
    await page.getByRole('button', { name: /Marco/ }).first().click();
    const input = page.locator(marco).getByRole('textbox', { name: 'Message' });
    await input.fill(code);
    await input.press('Enter');
    await page.locator(`${marco} .msg.bot .bubble`, { hasText: bot('staff.roleCoordinator') }).first().waitFor({ timeout: 15_000 });
    await input.fill('/desk');
    await input.press('Enter');
    const bubble = page.locator(`${marco} .msg.bot .bubble`, { hasText: '/desk/l/' });
    await bubble.waitFor({ timeout: 15_000 });
    const link = /https?:\/\/\S+\/desk\/l\/[A-Za-z0-9_-]{43}/.exec(await bubble.innerText())?.[0];
    expect(link).toBeDefined();

    const chat = await chatAppPage(link!);
    try {
      await page.goto(chat.url);
      await page.locator('#link').click();
      await page.getByRole('button', { name: desk('login.open') }).click();
      await page.waitForURL(`${base}/desk`);
      await page.getByRole('heading', { level: 1, name: desk('layout.overview') }).waitFor();
      await page.waitForFunction(() => document.querySelectorAll('canvas').length > 0);
      await page.waitForTimeout(300);
      const drawn = await drawnCanvases(page);
      expect(drawn.length).toBeGreaterThan(3);
      expect(drawn.every(Boolean), `blank canvases: ${drawn.map((d, i) => (d ? '' : i)).filter((x) => x !== '').join(',')}`).toBe(true);
      expect(errors).toEqual([]);
      await page.screenshot({ path: 'test/functions/desk/__screenshots__/overview.png', fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1900 } });

      // a standing call gets a closing date on its form, and Rahima's nido menu on WhatsApp says it
      const closes = format(addDays(new Date(), 20), 'yyyy-MM-dd');
      await page.getByRole('link', { name: desk('calls.menu') }).click();
      await page.locator('a[href="/desk/calls/bonus-nido"]').click();
      await page.getByLabel(desk('calls.field.closes_on.label')).fill(closes);
      await page.screenshot({ path: 'test/functions/desk/__screenshots__/call-form.png', fullPage: false });
      await page.getByRole('button', { name: desk('calls.form.save') }).click();
      await page.getByText(desk('calls.done.saved', { code: 'bonus-nido' })).waitFor();
      await page.goto(base);
      const rahima = '.phone[data-key^="wa:"]';
      await page.getByRole('button', { name: /Rahima/ }).click();
      const waInput = page.locator(rahima).getByRole('textbox').first();
      await waInput.fill('hello');
      await waInput.press('Enter');
      await page.locator(`${rahima} .msg.bot`, { hasText: i18n.t('bn')('menu.title') }).first().waitFor({ timeout: 15_000 });
      const nido = await page.locator(`${rahima} .msg.bot`).last().innerText();
      const option = /(\d+)\.\s*[^\n]*/.exec(nido.split('\n').find((l) => l.includes(i18n.t('bn')('menu.nido'))) ?? '')?.[1];
      expect(option, nido).toBeDefined();
      await waInput.fill(option!);
      await waInput.press('Enter');
      await page.locator(`${rahima} .msg.bot`, { hasText: i18n.t('bn')('calls.openUntil', { date: formatDate('bn', closes) }) }).first().waitFor({ timeout: 15_000 });

      // a notice to the Bengali families, for tomorrow at 10:00 (Rome): previewed per language, then its report
      await page.goto(`${base}/desk/broadcasts/new`);
      await page.locator('#f-languages-bn').check();
      await page.getByLabel(desk('broadcasts.form.italian')).fill('Sabato alle 10 open day al nido di via Padova.');
      await page.locator('#f-when-at').check();
      await page.locator('#at').fill(`${format(addDays(inRome(new Date()), 1), 'yyyy-MM-dd')}T10:00`);
      await page.getByRole('button', { name: desk('broadcasts.form.preview') }).click();
      await page.getByText(desk('broadcasts.preview.count', { count: 7, families: 7 })).waitFor();
      await page.getByText(desk('broadcasts.preview.italian')).first().waitFor();
      await page.locator('button[name="send"]').click();
      await page.getByText(desk('broadcasts.done.created', { ref: 'B-1' })).waitFor();
      // its time comes (the job run with that clock): the audience is fixed and each message queued, seen in the report
      const released = await runScript('functions/cli/job.ts', ['broadcasts', '--now', new Date(Date.parse(`${format(addDays(inRome(new Date()), 1), 'yyyy-MM-dd')}T10:01:00+01:00`)).toISOString()], env).done;
      expect(released.code, released.stderr).toBe(0);
      await page.reload();
      const figure = (key: string) => page.locator('tr', { has: page.getByText(desk(key), { exact: true }) }).locator('td').last();
      expect(await figure('broadcasts.figure.recipients').innerText()).toBe('7');
      expect(await figure('broadcasts.figure.queued').innerText()).toBe('7');
      await page.screenshot({ path: 'test/functions/desk/__screenshots__/broadcast-report.png', fullPage: false });

      // the same link again: used
      await page.goto(chat.url);
      await page.locator('#link').click();
      await page.getByText(desk('login.used')).waitFor();
    } finally {
      chat.server.close();
    }
  }, 180_000);
});
