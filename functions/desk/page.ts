/** What a desk page gets and gives: the signed-in coordinator, her language, the database, and one way to answer. */
import type { TFunction } from 'i18next';
import type { Clock } from '../../bot/clock';
import type { Db } from '../../bot/db/client';
import type { Logger } from '../../bot/logger';
import type { DeskLanguage } from './i18n';

/** Who a valid session belongs to. */
export interface DeskStaff {
  id: string;
  ref: number;
  name: string;
  language: string | null;
}

export interface DeskContext {
  req: Request;
  url: URL;
  staff: DeskStaff;
  /** the session's form token: every form carries it in a hidden `csrf` field (see `csrfField`) */
  csrf: string;
  lang: DeskLanguage;
  t: TFunction;
  db: Db;
  clock: Clock;
  logger: Logger;
  now: Date;
  /** the page in the desk's shell (menu, language switch, sign-out); `body` already escaped */
  render(title: string, body: string, opts?: { status?: number; scripts?: string[]; headers?: Record<string, string> }): Response;
  /** after a form: back to a page with GET (post/redirect/get), so a reload does not post again */
  redirect(location: string): Response;
}

export interface DeskPage {
  /** the path it answers, exact or a pattern; under /desk */
  path: string | RegExp;
  /** its entry in the desk's menu: a key of locales/desk and a place (lower first) */
  nav?: { label: string; order: number; href: string };
  get?(ctx: DeskContext): Promise<Response>;
  /** a form posted from the desk (urlencoded or multipart, files included): origin and CSRF token already checked */
  post?(ctx: DeskContext, form: FormData): Promise<Response>;
}
