import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumOrSkip, haveChromium, launchChromium } from '../../support/browser';
import { deskAsset } from '../../../functions/desk/assets';
import { htmlPage, SECURITY_HEADERS } from '../../../functions/desk/html';
import { createDeskTranslator, type DeskLanguage } from '../../../functions/desk/i18n';
import { renderOverview } from '../../../functions/desk/overview';
import { sampleOverview } from '../../support/desk-overview-sample';

chromiumOrSkip('the overview\'s browser test');

const tFor = createDeskTranslator();
// a realistic programme: 48 districts (one with only three families) plus "not given", 50 tutors and the queue
const data = sampleOverview({ extraDistricts: { 'milano-4': { families: 3, children: 4 } } });

function pageFor(lang: DeskLanguage): string {
  const t = tFor(lang);
  const { from, to } = data.report.period;
  return htmlPage(t, { lang, title: t('layout.overview'), body: renderOverview(data, t, { lang, from, to }), scripts: ['chart.js', 'desk.js'] });
}

/** The overview and its assets as the desk serves them, from a tiny server on loopback. */
async function serve(): Promise<{ url: string; server: Server }> {
  const pages = { it: pageFor('it'), en: pageFor('en') };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = async (r: Response) => {
      res.writeHead(r.status, Object.fromEntries(r.headers));
      res.end(Buffer.from(await r.arrayBuffer()));
    };
    if (url.pathname.startsWith('/desk/assets/')) {
      const asset = deskAsset(url.pathname.slice('/desk/assets/'.length), new Request(url, { headers: req.headers as Record<string, string> }));
      void send(asset ?? new Response('Not Found', { status: 404, headers: SECURITY_HEADERS }));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      // the browser asks for it on its own; the shell names no icon, and this server is not the one under test
      void send(new Response(null, { status: 204 }));
      return;
    }
    if (url.pathname === '/desk') {
      const lang = url.searchParams.get('lang') === 'en' ? 'en' : 'it';
      void send(new Response(pages[lang], { headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS } }));
      return;
    }
    void send(new Response('Not Found', { status: 404, headers: SECURITY_HEADERS }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe.skipIf(!haveChromium)('the overview in Chromium', () => {
  let browser: Browser;
  let base: string;
  let server: Server;

  beforeAll(async () => {
    ({ url: base, server } = await serve());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** The page open, with every console error, page error and CSP violation collected. */
  async function open(lang: DeskLanguage, viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport });
    page.setDefaultTimeout(8_000);
    const problems: string[] = [];
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
    await page.exposeFunction('reportViolation', (v: string) => problems.push(`csp: ${v}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { reportViolation: (v: string) => void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(`${base}/desk?lang=${lang}`);
    expect(res?.headers()['content-security-policy']).toBe(SECURITY_HEADERS['content-security-policy']);
    await page.waitForFunction(() => document.querySelectorAll('canvas').length > 0 && [...document.querySelectorAll('canvas')].every((c) => c.width > 0));
    return { page, problems };
  }

  /** For each canvas: has it drawn anything (some pixel not left transparent)? */
  const drawn = (page: Page) =>
    page.evaluate(() => [...document.querySelectorAll('canvas')].map((c) => {
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
      return painted;
    }));

  it.each(['it', 'en'] as const)('draws every chart (%s) with no console error and no CSP violation, each beside its table', async (lang) => {
    const { page, problems } = await open(lang, { width: 1280, height: 800 });
    const painted = await drawn(page);
    const figures = await page.locator('figure.chart-figure:not(.empty)').count();
    expect(painted.length).toBe(figures);
    expect(painted.length).toBe(14 + data.broadcasts.length); // every chart, by channel and weekly medians included
    expect(painted.filter((n) => n < 500), `blank canvases among ${painted.join(',')}`).toEqual([]);
    expect(await page.locator('figure.chart-figure table').count()).toBe(figures);
    expect(await page.locator('figure.chart-figure canvas[role="img"][aria-label]').count()).toBe(figures);
    // 48 districts, "not given" and milano-4: a row each in the table
    expect(await page.locator('#chart-families-district tbody tr').count()).toBe(50);

    // desktop: a chart and its table side by side
    for (const id of ['families-district', 'reminders-weekly', 'needs-area']) {
      const chart = (await page.locator(`#chart-${id} .chart`).boundingBox())!;
      const table = (await page.locator(`#chart-${id} .table-wrap`).boundingBox())!;
      expect(table.x, id).toBeGreaterThanOrEqual(chart.x + chart.width - 1);
      expect(table.y, id).toBeLessThan(chart.y + chart.height);
      expect(chart.width, id).toBeGreaterThan(400);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws a small cell as no bar, and its tooltip says "<5"', async () => {
    const { page, problems } = await open('en', { width: 1280, height: 800 });
    const row = await page.locator('#chart-families-district tbody tr').evaluateAll((rows) => rows.findIndex((r) => r.querySelector('th')?.textContent === 'milano-4'));
    expect(row).toBeGreaterThanOrEqual(0);
    expect(await page.locator('#chart-families-district tbody tr').nth(row).locator('td').allTextContents()).toEqual(['<5', '<5']);
    const seen = await page.evaluate((index) => {
      const canvas = document.querySelector('#chart-families-district canvas') as HTMLCanvasElement;
      const chart = (window as unknown as { Chart: { getChart: (c: HTMLCanvasElement) => any } }).Chart.getChart(canvas);
      chart.tooltip.setActiveElements([{ datasetIndex: 0, index }, { datasetIndex: 1, index }], { x: 0, y: 0 });
      chart.update();
      return { values: chart.data.datasets.map((d: { data: unknown[] }) => d.data[index]), lines: chart.tooltip.body.flatMap((b: { lines: string[] }) => b.lines), title: chart.tooltip.title };
    }, row);
    expect(seen.values).toEqual([null, null]);
    expect(seen.lines).toEqual(['Families: <5', 'Children: <5']);
    expect(seen.title).toEqual(['milano-4']);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('lets a keyboard user reach the period form and the CSV links, with a visible focus ring', async () => {
    const { page } = await open('it', { width: 1280, height: 800 });
    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, cls: el.className, href: el.getAttribute('href'), text: el.textContent, outline: `${style.outlineStyle} ${style.outlineWidth}` };
    });
    await page.keyboard.press('Tab');
    const skip = await focused();
    expect(skip.cls).toBe('skip');
    expect(await page.locator('.skip').evaluate((el) => el.getBoundingClientRect().top >= 0)).toBe(true); // on screen when focused
    expect(skip.outline).toMatch(/^solid [3-9]/);
    const reached: { tag: string; href: string | null }[] = [];
    for (let i = 0; i < 20 && !reached.some((r) => r.href?.includes('overview.csv')); i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      reached.push(f);
      if (f.href?.includes('overview.csv')) {
        expect(f.href).toBe('/desk/overview.csv?chart=families-district&from=2026-09-07&to=2026-11-29');
        expect(f.text).toContain('Famiglie e bambini per zona');
        expect(f.outline).toMatch(/^solid [3-9]/);
      }
    }
    expect(reached.map((r) => r.tag)).toEqual(expect.arrayContaining(['INPUT', 'BUTTON', 'DIV', 'A']));
    expect(reached.at(-1)?.href).toContain('chart=families-district');
    await page.close();
  });

  it('fits a 390-pixel phone with no sideways scroll: wide tables scroll in their own box', async () => {
    const { page, problems } = await open('it', { width: 390, height: 844 });
    const sizes = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
    expect(sizes.scroll).toBeLessThanOrEqual(sizes.inner);
    // the weekly needs table has a column per area: wider than the phone, scrolled inside its box
    const box = await page.locator('#chart-needs-weekly .table-wrap').evaluate((el) => ({ client: el.clientWidth, scroll: el.scrollWidth }));
    expect(box.scroll).toBeGreaterThan(box.client);
    const painted = await drawn(page);
    expect(painted.filter((n) => n < 500)).toEqual([]);
    // stacked: the table below its chart
    const chart = (await page.locator('#chart-families-district .chart').boundingBox())!;
    const table = (await page.locator('#chart-families-district .table-wrap').boundingBox())!;
    expect(table.y).toBeGreaterThanOrEqual(chart.y + chart.height - 1);
    expect(problems).toEqual([]);
    await page.close();
  });
});
