import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, haveChromium, launchChromium } from '../support/browser';
import { createTranslator } from '../../bot/i18n';
import { freePort, runScript, waitForHealthy } from '../support/processes';

const i18n = createTranslator();

chromiumOrSkip('the playground\'s browser test');

/** `npm start` with no credentials, and a person in a real browser chatting with the real bot. */
describe.skipIf(!haveChromium)('the playground served by npm start', () => {
  let server: ReturnType<typeof runScript>;
  let browser: Browser;
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'familybot-playground-'));
    const port = await freePort();
    base = `http://localhost:${port}`;
    server = runScript('functions/main.ts', [], { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });
    await waitForHealthy(`${base}/healthz`, 60_000);
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await server?.done;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets a mother on Telegram type, tap a language and read the answer, and one on WhatsApp answer by number', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 640 } });
    await page.goto(base);
    const amina = '.phone[data-key="tg:1001"]';
    const input = page.locator(amina).getByRole('textbox', { name: 'Message' });
    await input.fill('مرحبا');
    await input.press('Enter');
    const welcome = page.locator(`${amina} .msg.bot .bubble`, { hasText: i18n.t('ar')('greeting.welcome') });
    await welcome.waitFor({ timeout: 15_000 });
    expect(await welcome.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await page.locator(amina).getByRole('button', { name: 'English', exact: true }).click();
    await page.locator(`${amina} .msg.bot .bubble`, { hasText: i18n.t('en')('greeting.languageSet') }).waitFor({ timeout: 15_000 });

    await page.getByRole('button', { name: /Rahima/ }).click();
    const rahima = '.phone[data-key^="wa:"]';
    const waInput = page.locator(rahima).getByRole('textbox').first();
    await waInput.fill('hello');
    await waInput.press('Enter');
    await page.locator(`${rahima} .msg.bot`, { hasText: '1. বাংলা' }).waitFor({ timeout: 15_000 });
    await waInput.fill('2');
    await waInput.press('Enter');
    await page.locator(`${rahima} .msg.bot`, { hasText: i18n.t('it')('greeting.languageSet') }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: 'test/local/__screenshots__/npm-start-playground.png' });
  }, 60_000);
});
