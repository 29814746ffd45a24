import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { secretHash } from '../../bot/features/desk/flow';

export { secretHash };

/** The session lasts a working day; the cookie no longer. */
export const SESSION_SECONDS = 8 * 60 * 60;

/** Over https the cookie is `__Host-` (Secure, whole site, this host only); over plain http (local mode) it is kept to /desk. */
export function cookieName(publicUrl: string): string {
  return publicUrl.startsWith('https:') ? '__Host-desk' : 'desk';
}

export function sessionCookie(publicUrl: string, secret: string): string {
  const secure = publicUrl.startsWith('https:');
  return [`${cookieName(publicUrl)}=${secret}`, secure ? 'Path=/' : 'Path=/desk', 'HttpOnly', 'SameSite=Strict', `Max-Age=${SESSION_SECONDS}`, ...(secure ? ['Secure'] : [])].join('; ');
}

export function clearedCookie(publicUrl: string): string {
  const secure = publicUrl.startsWith('https:');
  return [`${cookieName(publicUrl)}=`, secure ? 'Path=/' : 'Path=/desk', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0', ...(secure ? ['Secure'] : [])].join('; ');
}

export function cookies(req: Request): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

export const newSecret = () => randomBytes(32).toString('base64url');
/** Secrets are 32 random bytes in base64url: anything else is refused before the database is asked. */
export const looksLikeSecret = (s: string | undefined | null): s is string => typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s);

/** The form token belongs to the session: derived from its secret, so it needs no storage and dies with it. */
export const csrfFor = (sessionSecret: string) => createHash('sha256').update(`desk-csrf\0${sessionSecret}`).digest('base64url');

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A form may only be posted from the desk's own pages: the browser's Origin must be this server (the host it
 * asked for, or PUBLIC_URL's origin behind a proxy). No Origin and no Sec-Fetch-Site is refused.
 */
export function fromOurPages(req: Request, publicUrl: string): boolean {
  const origin = req.headers.get('origin');
  if (origin) {
    if (origin === new URL(publicUrl).origin) return true;
    // the host the browser asked for (the Host header): the same page's origin, whatever port or proxy is in between
    const host = URL.canParse(origin) ? new URL(origin).host : undefined;
    return host !== undefined && host === req.headers.get('host');
  }
  return req.headers.get('sec-fetch-site') === 'same-origin';
}

/** A few attempts a minute per address at the sign-in doors: a secret cannot be guessed, but the database need not be asked to try. */
export class AttemptLimiter {
  private readonly seen = new Map<string, { start: number; n: number }>();
  constructor(private readonly perMinute: number) {}
  allow(key: string, nowMs: number): boolean {
    const w = this.seen.get(key);
    if (!w || nowMs - w.start >= 60_000) {
      if (this.seen.size > 10_000) this.seen.clear();
      this.seen.set(key, { start: nowMs, n: 1 });
      return true;
    }
    w.n += 1;
    return w.n <= this.perMinute;
  }
}
