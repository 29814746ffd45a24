import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { serveFetch } from '../../../bot/http/node-adapter';
import { createLogger } from '../../../bot/logger';
import { deskHandler } from '../../../functions/desk';
import { CONTENT_SECURITY_POLICY } from '../../../functions/desk/html';
import { pgliteDb, type TestDb } from '../../support/door';
import { coreDeps, makeStaff, person } from '../../support/chat';

const LINK = /\/desk\/l\/([A-Za-z0-9_-]{43})/;

describe('the desk\'s doors: one-time link, session cookie, CSRF, audit', () => {
  let t: TestDb;
  let deps: ReturnType<typeof coreDeps>;
  let base: string;
  let close: () => Promise<void>;
  const logged: string[] = [];

  beforeAll(async () => {
    t = await pgliteDb();
    deps = coreDeps(t, '2026-11-23T10:00:00+01:00');
    const logger = createLogger('debug', new Writable({ write(chunk, _enc, done) { logged.push(String(chunk)); done(); } }));
    const served = await serveFetch(deskHandler({ db: t.db, clock: deps.clock, logger, config: { publicUrl: 'http://desk.example' }, signInPerMinute: 1_000 }));
    base = served.url;
    close = served.close;
    deps.deskUrl = `${base}/desk`;
    await makeStaff(t, 'coordinator', 'Marco Rossi', '500');
    await makeStaff(t, 'coordinator', 'Lucia Neri', '502');
    await makeStaff(t, 'tutor', 'Eva Verdi', '501');
    // three families in one district: a small cell
    for (const i of [1, 2, 3]) {
      await t.sql.query(`with f as (insert into public.families (district_code, created_at) values ('milano-4', '2026-11-02T10:00:00Z') returning id)
        insert into public.contacts (channel, provider_id, language, consent, family_id) select 'telegram', $1, 'ar', 'given', id from f`, [`90${i}`]);
    }
  });
  afterAll(async () => {
    await close();
    await t.close();
  });
  // each test two hours after the one before: the links asked for by one do not count against the next's hourly allowance
  let test = 0;
  beforeEach(() => {
    deps.clock.set(new Date(Date.parse('2026-11-23T10:00:00+01:00') + 2 * 3_600_000 * test++));
  });

  const askLink = async (chat = '500') => {
    const [reply] = await person(deps, { id: chat }).say('/desk');
    const secret = LINK.exec(reply!.text)?.[1];
    if (!secret) throw new Error(`no link in ${reply!.text}`);
    return secret;
  };
  const ORIGIN = () => ({ origin: base });
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const signIn = (secret: string, headers: Record<string, string> = ORIGIN()) =>
    fetch(`${base}/desk/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form({ link: secret, lang: 'en' }) });
  const cookieOf = (res: Response) => /^desk=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  const session = async () => {
    const res = await signIn(await askLink());
    expect(res.status).toBe(303);
    return cookieOf(res)!;
  };
  const page = (path: string, cookie?: string) => fetch(`${base}${path}`, { headers: cookie ? { cookie: `desk=${cookie}` } : {} });
  const csrfOf = async (cookie: string) => /name="csrf" value="([^"]+)"/.exec(await (await page('/desk', cookie)).text())?.[1];
  const audit = async () => (await t.sql.query<{ action: string }>(`select action from public.audit_log order by id`)).map((r) => r.action);
  const openSessions = async () => (await t.sql.query<{ n: number }>(`select count(*)::int as n from public.desk_sessions where ended_at is null`))[0]!.n;

  it('shows the link\'s page without using the link (a chat app\'s preview), and signs in only on its button', async () => {
    const secret = await askLink();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/desk/l/${secret}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toBeNull();
      const html = await res.text();
      expect(html).toMatch(/<form method="post" action="\/desk\/login">/);
    }
    const res = await signIn(secret);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/desk');
    expect(res.headers.get('set-cookie')).toMatch(/^desk=[A-Za-z0-9_-]{43}; Path=\/desk; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const overview = await page('/desk', cookieOf(res));
    expect(overview.status).toBe(200);
    expect(overview.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(overview.headers.get('cache-control')).toBe('no-store');
    expect(await overview.text()).toContain('Marco Rossi');
    expect(await audit()).toEqual(expect.arrayContaining(['desk.link', 'desk.signin', 'desk.overview']));
  });

  it('draws the menu of every area, in order, with the page shown marked as current', async () => {
    const html = await (await page('/desk?lang=en', await session())).text();
    const menu = [...(/<nav aria-label="Desk menu"><ul>([\s\S]*?)<\/ul><\/nav>/.exec(html)?.[1] ?? '').matchAll(/<a href="([^"]+)"( aria-current="page")?>/g)].map((m) => [m[1], Boolean(m[2])]);
    expect(menu).toEqual([
      ['/desk', true], ['/desk/calls', false], ['/desk/staff', false], ['/desk/broadcasts', false],
      ['/desk/knowledge', false], ['/desk/templates', false], ['/desk/services', false], ['/desk/calendar', false],
    ]);
  });

  it.each([
    ['used', 410, async (secret: string) => { await signIn(secret); }],
    ['expired', 410, async () => { deps.clock.advance(10 * 60_000 + 1_000); }],
    ['unknown', 404, async () => undefined],
  ] as const)('refuses a %s link with a page that says so, and opens no session', async (kind, status, before) => {
    const secret = kind === 'unknown' ? 'x'.repeat(43) : await askLink();
    await before(secret);
    const sessions = await openSessions();
    const shown = await fetch(`${base}/desk/l/${secret}`, { headers: { 'accept-language': 'en' } });
    expect(shown.status).toBe(status);
    expect(await shown.text()).toContain(kind === 'used' ? 'already been used' : kind === 'expired' ? 'has expired' : 'does not work');
    const res = await signIn(secret);
    expect(res.status).toBe(status);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await openSessions()).toBe(sessions);
  });

  it('refuses a tutor\'s link and a link of a coordinator who left before using it', async () => {
    const [{ id: tutor }] = await t.sql.query<{ id: string }>(`select id from public.staff where full_name = 'Eva Verdi'`) as [{ id: string }];
    // the chat cannot make a tutor's link (the database refuses it): planted here to prove the door checks the role too
    const { secretHash } = await import('../../../bot/features/desk/flow');
    const planted = 'p'.repeat(43);
    await t.sql.query(`insert into public.desk_links (token_hash, staff_id, created_at, expires_at) values ($1, $2, now(), now() + interval '1 day')`, [secretHash(planted), tutor]);
    expect((await signIn(planted)).status).toBe(410);
    const secret = await askLink('502');
    await t.sql.query(`update public.staff set active = false where full_name = 'Lucia Neri'`);
    const res = await signIn(secret);
    expect(res.status).toBe(410);
    expect(res.headers.get('set-cookie')).toBeNull();
    await t.sql.query(`update public.staff set active = true where full_name = 'Lucia Neri'`);
  });

  it('refuses a sign-in posted from another site or with no origin at all, and keeps the link usable', async () => {
    const secret = await askLink();
    expect((await signIn(secret, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await signIn(secret, {})).status).toBe(403);
    expect((await signIn(secret, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await signIn(secret)).status).toBe(303);
  });

  it('answers 401 with how to sign in to no cookie, a forged one, an expired session, and a coordinator who left', async () => {
    expect((await page('/desk')).status).toBe(401);
    expect(await (await page('/desk?lang=en')).text()).toContain('send /desk to the bot');
    expect((await page('/desk', 'A'.repeat(43))).status).toBe(401);
    expect((await page('/desk', 'not-a-secret')).status).toBe(401);
    const cookie = await session();
    expect((await page('/desk', cookie)).status).toBe(200);
    deps.clock.advance(8 * 60 * 60_000);
    expect((await page('/desk', cookie)).status).toBe(401);
    deps.clock.advance(-8 * 60 * 60_000);
    const other = cookieOf(await signIn(await askLink('502')))!;
    expect((await page('/desk', other)).status).toBe(200);
    await t.sql.query(`update public.staff set active = false where full_name = 'Lucia Neri'`);
    expect((await page('/desk', other)).status).toBe(401);
    await t.sql.query(`update public.staff set active = true where full_name = 'Lucia Neri'`);
  });

  it('signs out only with the session\'s own form token from the desk\'s origin', async () => {
    const cookie = await session();
    const csrf = (await csrfOf(cookie))!;
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const logout = (body: Record<string, string>, headers: Record<string, string> = ORIGIN()) =>
      fetch(`${base}/desk/logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `desk=${cookie}`, ...headers }, body: form(body) });
    expect((await logout({})).status).toBe(403);
    expect((await logout({ csrf: csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) })).status).toBe(403);
    expect((await logout({ csrf }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await page('/desk', cookie)).status).toBe(200);
    const done = await logout({ csrf });
    expect(done.status).toBe(200);
    expect(done.headers.get('set-cookie')).toMatch(/^desk=; Path=\/desk; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect((await page('/desk', cookie)).status).toBe(401);
    expect((await audit()).at(-1)).toBe('desk.signout');
  });

  it('shows a district with three families as "<5", in the page and in the chart\'s CSV, and audits the download', async () => {
    const cookie = await session();
    const html = await (await page('/desk', cookie)).text();
    expect(html).toMatch(/milano-4<\/(th|td)>\s*<td[^>]*>&lt;5<\/td>/);
    const link = /href="(\/desk\/overview\.csv\?chart=[^"]*district[^"]*)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(link).toBeDefined();
    const csv = await page(link!, cookie);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = await csv.text();
    expect(text).toMatch(/milano-4,"?<5"?/);
    expect(text).not.toMatch(/milano-4,3\b/);
    expect((await audit()).at(-1)).toBe('desk.csv');
    expect((await page('/desk/overview.csv?chart=nothing', cookie)).status).toBe(404);
  });

  it('never writes a link\'s or a session\'s secret to the log', async () => {
    const secret = await askLink();
    const cookie = cookieOf(await signIn(secret))!;
    await page('/desk', cookie);
    const all = logged.join('');
    expect(all).toContain('desk session opened');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(cookie);
  });

  it('answers too many sign-in attempts from one address with 429, and lets it try again a minute later', async () => {
    const strict = await serveFetch(deskHandler({ db: t.db, clock: deps.clock, logger: createLogger('silent'), config: { publicUrl: 'http://desk.example' }, signInPerMinute: 5 }));
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await fetch(`${strict.url}/desk/l/${'z'.repeat(43)}`)).status);
      expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429]);
      deps.clock.advance(61_000);
      expect((await fetch(`${strict.url}/desk/l/${'z'.repeat(43)}`)).status).toBe(404);
    } finally {
      await strict.close();
    }
  });
});
