import { expect } from 'vitest';
import { serveFetch } from '../../bot/http/node-adapter';
import { createLogger } from '../../bot/logger';
import { deskHandler } from '../../functions/desk';
import { coreDeps, person } from './chat';
import type { TestDb } from './door';

/** The desk's PUBLIC_URL in tests: forms are posted with it as their Origin, as a browser behind a proxy would. */
export const DESK_PUBLIC_URL = 'http://desk.example';
export const DESK_LINK = /\/desk\/l\/([A-Za-z0-9_-]{43})/;

/** Form fields; a list is posted as repeated fields (checkboxes). */
export type Fields = Record<string, string | string[]>;
export interface DeskSession {
  cookie: string;
  csrf: string;
}

/**
 * The desk served on a test database with the chat beside it (coreDeps at `now`), and a coordinator's session
 * obtained the real way: /desk in the chat from `chat` (a coordinator made with makeStaff), then the link's button.
 */
export async function deskRig(t: TestDb, now: string) {
  const deps = coreDeps(t, now);
  const served = await serveFetch(deskHandler({ db: t.db, clock: deps.clock, logger: createLogger('silent'), config: { publicUrl: DESK_PUBLIC_URL }, signInPerMinute: 1_000 }));
  const base = served.url;
  deps.deskUrl = `${base}/desk`;
  const get = (path: string, cookie: string) => fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie } });
  const post = (path: string, s: { cookie: string; csrf?: string }, fields: Fields, headers: Record<string, string> = { origin: DESK_PUBLIC_URL }) => {
    const body = new URLSearchParams();
    if (s.csrf) body.append('csrf', s.csrf);
    for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie, ...headers }, body: body.toString() });
  };
  async function session(lang: 'en' | 'it' = 'en', chat = '500'): Promise<DeskSession> {
    const [reply] = await person(deps, { id: chat }).say('/desk');
    const secret = DESK_LINK.exec(reply!.text)?.[1];
    if (!secret) throw new Error(`no link in ${reply!.text}`);
    const res = await fetch(`${base}/desk/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: DESK_PUBLIC_URL }, body: new URLSearchParams({ link: secret, lang }).toString() });
    expect(res.status).toBe(303);
    const cookie = `desk=${/^desk=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]}; desk_lang=${lang}`;
    // a page that reads no figures and writes no audit row: the session's form token is in its sign-out form
    const html = await (await get('/desk/calls', cookie)).text();
    return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]! };
  }
  return { deps, base, get, post, session, close: served.close };
}

export type DeskRig = Awaited<ReturnType<typeof deskRig>>;
