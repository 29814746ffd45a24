/**
 * The coordinators' desk on the bot's own server, under /desk. A link from the bot (/desk) opens a page whose
 * button signs in: the link is used by that click, not by the chat app's preview, and the session cookie is set
 * on a same-site request so a SameSite=Strict cookie works from the first page. Every page is server-rendered
 * under a strict CSP; every form carries the session's CSRF token and must come from the desk's own origin.
 */
import type { TFunction } from 'i18next';
import type { Clock } from '../../bot/clock';
import type { Config } from '../../bot/config';
import type { Db } from '../../bot/db/client';
import type { FetchHandler } from '../../bot/http/node-adapter';
import type { Logger } from '../../bot/logger';
import { call } from '../../bot/db/rpc';
import { staffRef } from '../../bot/core/format';
import { createDeskTranslator, deskLanguageOf, isDeskLanguage, type DeskLanguage } from './i18n';
import { esc, htmlPage, htmlResponse, SECURITY_HEADERS } from './html';
import type { DeskContext, DeskPage, DeskStaff } from './page';
import { AttemptLimiter, clearedCookie, cookieName, cookies, csrfFor, fromOurPages, looksLikeSecret, newSecret, sameSecret, secretHash, sessionCookie } from './session';
import { deskAsset } from './assets';
import { overviewPages } from './overview-page';
import { callPages } from './calls';
import { broadcastPages } from './broadcasts';
import { staffPages } from './staff';
import { knowledgePages } from './knowledge';
import { contentPages } from './content';

export interface DeskDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'publicUrl'>;
  /** sign-in attempts per address per minute (default 20) */
  signInPerMinute?: number;
  /** more pages beside the overview (tests) */
  pages?: DeskPage[];
}

interface Session {
  secret: string;
  staff: DeskStaff;
  csrf: string;
}

const LANG_COOKIE = 'desk_lang';
/** Sign-in attempts per address per minute, at /desk/l/… and /desk/login. */
const SIGN_IN_PER_MINUTE = 20;

/** The desk's pages, in the order of its menu. */
const DESK_PAGES: DeskPage[] = [...overviewPages, ...callPages, ...staffPages, ...broadcastPages, ...knowledgePages, ...contentPages];

export function deskHandler(deps: DeskDeps): FetchHandler {
  const tFor = createDeskTranslator();
  const limiter = new AttemptLimiter(deps.signInPerMinute ?? SIGN_IN_PER_MINUTE);
  const { publicUrl } = deps.config;
  const nowIso = () => deps.clock.now().toISOString();

  const languageOf = (req: Request, url: URL, staff?: DeskStaff): { lang: DeskLanguage; setCookie?: string } => {
    const asked = url.searchParams.get('lang');
    if (isDeskLanguage(asked)) return { lang: asked, setCookie: `${LANG_COOKIE}=${asked}; Path=/desk; SameSite=Strict; Max-Age=31536000` };
    const kept = cookies(req).get(LANG_COOKIE);
    if (isDeskLanguage(kept)) return { lang: kept };
    if (staff?.language) return { lang: deskLanguageOf(staff.language) };
    const accepted = (req.headers.get('accept-language') ?? '').split(',').map((p) => p.trim().slice(0, 2).toLowerCase()).find(isDeskLanguage);
    return { lang: accepted ?? 'it' };
  };

  /** A page with only a message (sign-in, errors): no menu, no script. */
  const notice = (t: TFunction, lang: DeskLanguage, title: string, text: string, status: number, headers: Record<string, string> = {}, extra = '') =>
    htmlResponse(htmlPage(t, { lang, title, body: `<p>${esc(text)}</p>${extra}` }), status, headers);

  async function sessionOf(req: Request): Promise<Session | undefined> {
    const secret = cookies(req).get(cookieName(publicUrl));
    if (!looksLikeSecret(secret)) return undefined;
    const staff = await call<DeskStaff | null>(deps.db, 'desk_session_staff', { p_session_hash: secretHash(secret), p_now: nowIso() });
    return staff ? { secret, staff, csrf: csrfFor(secret) } : undefined;
  }

  const pages: DeskPage[] = [...DESK_PAGES, ...(deps.pages ?? [])];
  const menu = pages.flatMap((p) => (p.nav ? [p.nav] : [])).sort((a, b) => a.order - b.order);
  const matches = (p: DeskPage, path: string) => (typeof p.path === 'string' ? p.path === path : p.path.test(path));

  /** What a page gets: the session's coordinator, her language, and the shell to answer in. */
  function contextFor(req: Request, url: URL, s: Session, path: string): DeskContext {
    const { lang, setCookie } = languageOf(req, url, s.staff);
    const t = tFor(lang);
    const nav = menu.map((n) => ({ href: n.href, label: t(n.label), current: n.href === path }));
    const who = t('layout.signedInAs', { name: s.staff.name, ref: staffRef(s.staff.ref) });
    return {
      req, url, staff: s.staff, csrf: s.csrf, lang, t, db: deps.db, clock: deps.clock, logger: deps.logger, now: deps.clock.now(),
      render: (title, body, opts = {}) => htmlResponse(htmlPage(t, { lang, title, body, scripts: opts.scripts, session: { who, csrf: s.csrf, nav, path } }), opts.status ?? 200,
        { ...(setCookie ? { 'set-cookie': setCookie } : {}), ...opts.headers }),
      redirect: (location) => new Response(null, { status: 303, headers: { ...SECURITY_HEADERS, location } }),
    };
  }

  /** The link's page: says what the link is, and signs in only when its button is pressed. */
  async function linkPage(req: Request, url: URL, secret: string): Promise<Response> {
    const { lang } = languageOf(req, url);
    const t = tFor(lang);
    const status = looksLikeSecret(secret) ? await call<'ok' | 'used' | 'expired' | 'unknown'>(deps.db, 'desk_link_peek', { p_token_hash: secretHash(secret), p_now: nowIso() }) : 'unknown';
    if (status !== 'ok') return notice(t, lang, t('login.title'), t(`login.${status}`), status === 'unknown' ? 404 : 410);
    const form = `<form method="post" action="/desk/login"><input type="hidden" name="link" value="${esc(secret)}"><input type="hidden" name="lang" value="${lang}"><button type="submit" class="primary">${esc(t('login.open'))}</button></form>`;
    return notice(t, lang, t('login.title'), t('login.ready'), 200, {}, form);
  }

  async function login(req: Request): Promise<Response> {
    const body = new URLSearchParams(await req.text());
    const lang = deskLanguageOf(body.get('lang'));
    const t = tFor(lang);
    if (!fromOurPages(req, publicUrl)) return notice(t, lang, t('login.title'), t('login.refused'), 403);
    const link = body.get('link');
    const session = newSecret();
    const opened = looksLikeSecret(link)
      ? await call<{ status: 'ok' | 'used' | 'expired' | 'unknown' }>(deps.db, 'desk_link_open', { p_token_hash: secretHash(link), p_session_hash: secretHash(session), p_now: nowIso() })
      : { status: 'unknown' as const };
    if (opened.status !== 'ok') return notice(t, lang, t('login.title'), t(`login.${opened.status}`), opened.status === 'unknown' ? 404 : 410);
    deps.logger.info({ desk: 'signin' }, 'desk session opened');
    return new Response(null, { status: 303, headers: { ...SECURITY_HEADERS, location: '/desk', 'set-cookie': sessionCookie(publicUrl, session) } });
  }

  /** A form post on a session (urlencoded or multipart): same origin and the session's own token, or nothing happens. */
  async function postedForm(req: Request, s: Session): Promise<FormData | undefined> {
    if (!fromOurPages(req, publicUrl)) return undefined;
    const form = await req.formData().catch(() => undefined);
    const token = form?.get('csrf');
    return typeof token === 'string' && sameSecret(token, s.csrf) ? form : undefined;
  }

  async function route(req: Request, info: { remoteAddress: string }): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/desk/assets/') && (req.method === 'GET' || req.method === 'HEAD')) {
      return deskAsset(path.slice('/desk/assets/'.length), req) ?? new Response('Not Found', { status: 404, headers: SECURITY_HEADERS });
    }
    const signIn = path.startsWith('/desk/l/') || path === '/desk/login';
    if (signIn && !limiter.allow(info.remoteAddress, deps.clock.now().getTime())) {
      const { lang } = languageOf(req, url);
      const t = tFor(lang);
      return notice(t, lang, t('login.title'), t('login.tooMany'), 429, { 'retry-after': '60' });
    }
    if (path.startsWith('/desk/l/') && (req.method === 'GET' || req.method === 'HEAD')) return linkPage(req, url, path.slice('/desk/l/'.length));
    if (path === '/desk/login' && req.method === 'POST') return login(req);

    const s = await sessionOf(req);
    if (!s) {
      const { lang } = languageOf(req, url);
      const t = tFor(lang);
      return notice(t, lang, t('login.title'), t('login.needed'), 401);
    }
    if (path === '/desk/logout' && req.method === 'POST') {
      const { lang } = languageOf(req, url, s.staff);
      const t = tFor(lang);
      if (!(await postedForm(req, s))) return notice(t, lang, t('login.title'), t('login.refused'), 403);
      await call<boolean>(deps.db, 'desk_session_end', { p_session_hash: secretHash(s.secret), p_now: nowIso() });
      return notice(t, lang, t('login.title'), t('login.signedOut'), 200, { 'set-cookie': clearedCookie(publicUrl) });
    }
    const page = pages.find((p) => matches(p, path));
    const ctx = page && contextFor(req, url, s, path);
    if (page && ctx && (req.method === 'GET' || req.method === 'HEAD') && page.get) return page.get(ctx);
    if (page && ctx && req.method === 'POST' && page.post) {
      const form = await postedForm(req, s);
      if (!form) return notice(ctx.t, ctx.lang, ctx.t('login.title'), ctx.t('login.refused'), 403);
      return page.post(ctx, form);
    }
    if (page) return new Response('Method Not Allowed', { status: 405, headers: { ...SECURITY_HEADERS, allow: [page.get && 'GET', page.post && 'POST'].filter(Boolean).join(', ') } });
    return new Response('Not Found', { status: 404, headers: SECURITY_HEADERS });
  }

  return async (req, info) => {
    try {
      return await route(req, info);
    } catch (err) {
      // never the path: a link's secret is in it
      deps.logger.error({ desk: true, err: (err as Error).message }, 'desk request failed');
      return new Response('Internal Server Error', { status: 500, headers: SECURITY_HEADERS });
    }
  };
}
