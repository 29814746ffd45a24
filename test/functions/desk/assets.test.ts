import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { deskAsset } from '../../../functions/desk/assets';
import { CONTENT_SECURITY_POLICY } from '../../../functions/desk/html';

const get = (name: string, headers: Record<string, string> = {}, method = 'GET') => deskAsset(name, new Request(`http://desk.example/desk/assets/${name}`, { method, headers }));

describe('deskAsset', () => {
  it.each([
    ['desk.css', 'text/css; charset=utf-8', ':focus-visible'],
    ['desk.js', 'text/javascript; charset=utf-8', 'window.Chart'],
    ['chart.js', 'text/javascript; charset=utf-8', 'window.Chart='],
  ])('serves %s as %s, cacheable, under the desk\'s CSP, with an ETag', async (name, type, inside) => {
    const res = get(name)!;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(type);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
    const body = await res.text();
    expect(body).toContain(inside);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
  });

  it('serves the Chart.js the package ships (its UMD build), without the source map comment', async () => {
    const dist = createRequire(import.meta.url).resolve('chart.js').replace(/chart\.cjs$/, 'chart.umd.min.js');
    const shipped = readFileSync(dist, 'utf8');
    const served = await get('chart.js')!.text();
    expect(served).not.toContain('sourceMappingURL');
    expect(served.trimEnd()).toBe(shipped.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '').trimEnd());
    expect(served).toMatch(/Chart\.js v4\.\d+\.\d+/);
  });

  it.each([
    ['the same ETag', (etag: string) => etag, 304],
    ['a weak form of it', (etag: string) => `W/${etag}`, 304],
    ['it among others', (etag: string) => `"other", ${etag}`, 304],
    ['any version', () => '*', 304],
    ['another version', () => '"stale"', 200],
  ])('answers If-None-Match with %s', async (_what, header, status) => {
    const etag = get('desk.js')!.headers.get('etag')!;
    const res = get('desk.js', { 'if-none-match': header(etag) })!;
    expect(res.status).toBe(status);
    expect(res.headers.get('etag')).toBe(etag);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    if (status === 304) expect(await res.text()).toBe('');
  });

  it('answers HEAD with the headers only', async () => {
    const res = get('desk.css', {}, 'HEAD')!;
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(await res.text()).toBe('');
  });

  it.each(['', 'nothing.js', '../html.ts', 'assets/desk.css', 'desk.css/', 'DESK.CSS', 'constructor', '__proto__', 'toString'])('knows nothing called %j', (name) => {
    expect(deskAsset(name)).toBeUndefined();
  });
});
