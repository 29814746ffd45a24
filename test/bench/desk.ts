/**
 * `npm run bench -- desk`: the coordinators' overview with 100 and with 10,000 families on the embedded database
 * (`BENCH_DESK_FAMILIES`): the server's answer, first paint and charts drawn in Chromium, page weight.
 * 100 families is the baseline of the same run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FakeClock } from '../../bot/clock';
import { loadConfig } from '../../bot/config';
import { openDataDoor, type DataDoor } from '../../bot/db/client';
import { serveFetch } from '../../bot/http/node-adapter';
import { createLogger } from '../../bot/logger';
import { secretHash } from '../../bot/features/desk/flow';
import { deskHandler } from '../../functions/desk';
import { CHROMIUM, haveChromium, launchChromium } from '../support/browser';

const NOW = '2026-11-23T10:00:00+01:00';
const SESSION = 'B'.repeat(43);

/** n families over nine districts, 13 languages and both channels, 40 tutors, a child each, needs and reminders over twelve weeks. */
async function seed(door: DataDoor, n: number) {
  const q = (sql: string) => door.executor!.query(sql);
  await q(`insert into public.staff (role, full_name) select 'tutor', 'Tutor ' || g from generate_series(1, 40) g`);
  await q(`with s as (insert into public.staff (role, full_name) values ('coordinator', 'Marco Rossi') returning id)
    insert into public.desk_sessions (token_hash, staff_id, created_at, expires_at) select '${secretHash(SESSION)}', id, '${NOW}', timestamptz '${NOW}' + interval '8 hours' from s`);
  await q(`
    with f as (insert into public.families (district_code, created_at) select 'milano-' || (1 + g % 9), timestamptz '${NOW}' - (g % 400) * interval '1 day' from generate_series(1, ${n}) g returning id, ref)
    , c as (insert into public.contacts (channel, provider_id, language, language_confirmed, consent, family_id, last_inbound_at)
            select case when f.ref % 3 = 0 then 'whatsapp' else 'telegram' end, case when f.ref % 3 = 0 then '+39333' || lpad(f.ref::text, 7, '0') else (100000000 + f.ref)::text end,
                   (array['it','ar','tl','zh','es','si','ro','uk','sq','bn','en','fr','ur'])[1 + f.ref % 13], true, 'given', f.id, now() from f returning family_id)
    , a as (insert into public.family_assignments (family_id, tutor_id, assigned_at)
            select f.id, (select id from public.staff where role = 'tutor' order by ref offset (f.ref % 40) limit 1), '${NOW}' from f where f.ref % 17 <> 0)
    insert into public.children (family_id, name, birth_date) select f.id, 'Bimbo ' || f.ref, date '2026-11-23' - (f.ref % 2000)::int from f`);
  const areas = ['health', 'education', 'protection', 'parenting', 'housing', 'work', 'documents', 'other'];
  await q(`insert into public.needs (family_id, kind, category, urgency, source, status, created_at, taken_at, resolved_at)
    select f.id, 'need', (array[${areas.map((a) => `'${a}'`).join(',')}])[1 + f.ref % ${areas.length}], case when f.ref % 11 = 0 then 'urgent' else 'normal' end, 'menu', 'resolved',
           timestamptz '${NOW}' - (f.ref % 84) * interval '1 day', timestamptz '${NOW}' - (f.ref % 84) * interval '1 day' + (1 + f.ref % 30) * interval '1 hour',
           timestamptz '${NOW}' - (f.ref % 84) * interval '1 day' + (10 + f.ref % 90) * interval '1 hour'
      from public.families f where f.ref % 5 = 0`);
  await q(`insert into public.outbox (idempotency_key, contact_id, channel, kind, payload, status, sent_at)
    select 'r' || c.id, c.id, c.channel, 'reminder', '{"text":"x"}', 'sent', timestamptz '${NOW}' - (abs(hashtext(c.id::text)) % 84) * interval '1 day' from public.contacts c where c.family_id is not null`);
}

async function measure(where: string, door: DataDoor, n: number, browser: import('playwright-core').Browser | undefined) {
  await seed(door, n);
  const clock = new FakeClock(NOW);
  const served = await serveFetch(deskHandler({ db: door.supabase, clock, logger: createLogger('silent'), config: { publicUrl: 'http://localhost' } }));
  try {
    const server: number[] = [];
    let html = '';
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await fetch(`${served.url}/desk`, { headers: { cookie: `desk=${SESSION}` } });
      html = await res.text();
      if (res.status !== 200) throw new Error(`overview answered ${res.status}`);
      server.push(performance.now() - t0);
    }
    server.sort((a, b) => a - b);
    let browserPart = '';
    if (browser) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name: 'desk', value: SESSION, url: `${served.url}/desk` }]);
      const page = await context.newPage();
      const bytes: Record<string, number> = {};
      const gz: Record<string, number> = {};
      page.on('response', async (r) => {
        const body = await r.body().catch(() => undefined);
        if (body) {
          const name = new URL(r.url()).pathname.split('/').pop() || 'desk';
          bytes[name] = body.length;
          gz[name] = gzipSync(body).length;
        }
      });
      const t0 = performance.now();
      await page.goto(`${served.url}/desk`);
      await page.waitForFunction(() => {
        const canvases = [...document.querySelectorAll('canvas')];
        return canvases.length > 0 && canvases.every((c) => {
          const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
          for (let i = 3; i < data.length; i += 16) if (data[i] !== 0) return true;
          return false;
        });
      }, undefined, { timeout: 60_000, polling: 20 });
      const drawn = performance.now() - t0;
      const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
      await page.waitForTimeout(200);
      const total = Object.values(bytes).reduce((a, b) => a + b, 0);
      const totalGz = Object.values(gz).reduce((a, b) => a + b, 0);
      const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;
      browserPart = `; Chromium: first contentful paint ${fcp.toFixed(0)} ms, every chart drawn ${drawn.toFixed(0)} ms; page weight ${kb(total)} (gzip ${kb(totalGz)}: ${Object.keys(bytes).map((k) => `${k} ${kb(bytes[k]!)}`).join(', ')})`;
      await context.close();
    }
    console.log(`desk overview (${where}, ${n} families): server p50 ${server[2]!.toFixed(0)} ms (5 requests, max ${server[4]!.toFixed(0)} ms), HTML ${(html.length / 1024).toFixed(0)} KB${browserPart}`);
    return server[2]!;
  } finally {
    await served.close();
  }
}

export async function benchDesk(sizes = (process.env.BENCH_DESK_FAMILIES ?? '100,10000').split(',').map(Number)) {
  const browser = haveChromium ? await launchChromium() : undefined;
  if (!browser) console.log(`desk: Chromium is not at ${CHROMIUM}; only the server's figures`);
  try {
    const p50: number[] = [];
    for (const n of sizes) {
      const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-desk-'));
      const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
      try {
        p50.push(await measure('embedded', door, n, browser));
      } finally {
        await door.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }
    if (p50.length > 1) console.log(`desk overview: server time at ${sizes.at(-1)} families = ${(p50.at(-1)! / p50[0]!).toFixed(1)}× that at ${sizes[0]}`);
  } finally {
    await browser?.close();
  }
}
