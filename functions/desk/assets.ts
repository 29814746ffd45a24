/**
 * The desk's static files under /desk/assets/: its stylesheet and script, and Chart.js as the package ships it
 * (the UMD build, no bundler). Each file is read once and kept in memory with its ETag; a browser that has it
 * gets 304.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS } from './html';

const ASSETS = fileURLToPath(new URL('./assets/', import.meta.url));

/** Chart.js's browser build: next to the entry point the package resolves to (its exports do not list the UMD file). */
function chartJsPath(): string {
  const entry = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(entry), 'chart.umd.min.js');
}

const FILES: Record<string, { path: () => string; type: string }> = {
  'desk.css': { path: () => join(ASSETS, 'desk.css'), type: 'text/css; charset=utf-8' },
  'desk.js': { path: () => join(ASSETS, 'desk.js'), type: 'text/javascript; charset=utf-8' },
  'chart.js': { path: chartJsPath, type: 'text/javascript; charset=utf-8' },
};

interface Loaded {
  body: Buffer;
  etag: string;
  type: string;
}
const loaded = new Map<string, Loaded>();

function load(name: string): Loaded {
  let file = loaded.get(name);
  if (!file) {
    const spec = FILES[name]!;
    let text = readFileSync(spec.path(), 'utf8');
    // the source map is not served: the comment would only make a browser's tools ask for it
    if (name === 'chart.js') text = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    const body = Buffer.from(text, 'utf8');
    file = { body, type: spec.type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    loaded.set(name, file);
  }
  return file;
}

/** An If-None-Match list (or `*`) that names this ETag, weak or strong. */
function matches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/** The asset called `name`, or undefined when there is none; 304 when the request already holds this version. */
export function deskAsset(name: string, req?: Request): Response | undefined {
  if (!Object.hasOwn(FILES, name)) return undefined;
  const file = load(name);
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'cache-control': 'public, max-age=3600',
    etag: file.etag,
    'content-type': file.type,
  };
  if (matches(req?.headers.get('if-none-match') ?? null, file.etag)) {
    delete headers['content-type'];
    return new Response(null, { status: 304, headers });
  }
  const body = req?.method === 'HEAD' ? null : new Uint8Array(file.body);
  return new Response(body, { status: 200, headers: { ...headers, 'content-length': String(file.body.length) } });
}
