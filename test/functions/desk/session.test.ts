import { describe, expect, it } from 'vitest';
import { AttemptLimiter, clearedCookie, cookies, csrfFor, fromOurPages, looksLikeSecret, newSecret, sameSecret, sessionCookie } from '../../../functions/desk/session';

describe('the desk\'s session cookie', () => {
  it.each([
    ['https://famiglie.comune.example', /^__Host-desk=S{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800; Secure$/],
    ['http://localhost:3000', /^desk=S{43}; Path=\/desk; HttpOnly; SameSite=Strict; Max-Age=28800$/],
  ])('under %s is %s', (publicUrl, shape) => {
    expect(sessionCookie(publicUrl, 'S'.repeat(43))).toMatch(shape);
    expect(clearedCookie(publicUrl)).toMatch(/Max-Age=0/);
    expect(clearedCookie(publicUrl).startsWith(publicUrl.startsWith('https') ? '__Host-desk=;' : 'desk=;')).toBe(true);
  });

  it('reads cookies from the header, whatever else is there', () => {
    const c = cookies(new Request('http://x/', { headers: { cookie: 'a=1; desk=abc; desk_lang=en' } }));
    expect(c.get('desk')).toBe('abc');
    expect(c.get('desk_lang')).toBe('en');
  });

  it('makes 32-byte secrets and refuses anything else as one', () => {
    const s = newSecret();
    expect(looksLikeSecret(s)).toBe(true);
    expect(newSecret()).not.toBe(s);
    for (const bad of ['', 'abc', `${s}x`, s.replace(/.$/, '.'), undefined, null]) expect(looksLikeSecret(bad)).toBe(false);
  });

  it('derives a different form token per session and compares tokens whole', () => {
    const a = csrfFor('A'.repeat(43));
    expect(a).not.toBe(csrfFor('B'.repeat(43)));
    expect(sameSecret(a, csrfFor('A'.repeat(43)))).toBe(true);
    expect(sameSecret(a, a.slice(0, -1))).toBe(false);
  });
});

describe('a form from the desk\'s own pages', () => {
  const post = (headers: Record<string, string>, url = 'http://127.0.0.1/desk/logout') => new Request(url, { method: 'POST', headers: { host: '127.0.0.1:3000', ...headers } });
  it.each([
    [{ origin: 'http://127.0.0.1:3000' }, true],
    [{ origin: 'http://127.0.0.1:3001' }, false],
    [{ origin: 'http://localhost:3000' }, false],
    [{ origin: 'https://famiglie.comune.example' }, true],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: 'null' }, false],
    [{ 'sec-fetch-site': 'same-origin' }, true],
    [{ 'sec-fetch-site': 'same-site' }, false],
    [{}, false],
  ])('with %o is %s', (headers, ok) => {
    expect(fromOurPages(post(headers), 'https://famiglie.comune.example')).toBe(ok);
  });
});

describe('sign-in attempts per address', () => {
  it('allows the limit in a minute, then refuses until the minute is over', () => {
    const limiter = new AttemptLimiter(3);
    const t0 = Date.parse('2026-11-23T10:00:00Z');
    expect([0, 1, 2, 3].map((i) => limiter.allow('1.2.3.4', t0 + i * 1000))).toEqual([true, true, true, false]);
    expect(limiter.allow('5.6.7.8', t0 + 5000)).toBe(true);
    expect(limiter.allow('1.2.3.4', t0 + 60_000)).toBe(true);
  });
});
