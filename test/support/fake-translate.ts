import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A LibreTranslate-compatible server on loopback: POST /translate answers {translatedText: "[<target>] <q>"}.
 * `mode` switches it to failing (500), refusing a bad key (403) or hanging past the client's timeout.
 */
export async function fakeTranslate(opts: { apiKey?: string } = {}) {
  const state = { mode: 'ok' as 'ok' | 'fail' | 'hang', requests: [] as { q: string; source: string; target: string }[] };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/translate') return void res.writeHead(404).end();
      const json = JSON.parse(body) as { q: string; source: string; target: string; format?: string; api_key?: string };
      state.requests.push({ q: json.q, source: json.source, target: json.target });
      if (opts.apiKey && json.api_key !== opts.apiKey) return void res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'Invalid API key' }));
      if (state.mode === 'hang') return; // never answers
      if (state.mode === 'fail') return void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'model crashed' }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ translatedText: `[${json.target}] ${json.q}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
