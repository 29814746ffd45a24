import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A portable handler: the same shape as a Supabase Edge Function or a Deno/Bun server. */
export type FetchHandler = (req: Request, info: RequestInfo) => Promise<Response>;

/** What the Node server knows about the connection that the Fetch API does not carry. */
export interface RequestInfo {
  remoteAddress: string;
  /** destroys the socket without an answer: lets emulators imitate a dropped connection */
  dropConnection?: () => void;
}

/** Webhooks and the API are small; servers that take file uploads (the emulators, local mode) raise it. */
export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Telegram's 50 MB upload limit, with room for the multipart framing. */
export const LOCAL_MAX_BODY_BYTES = 52 * 1024 * 1024;

export interface BodyLimit {
  maxBodyBytes?: number;
  /** the answer to a body over the limit; default an empty 413 */
  tooLarge?: () => Response;
}

/** The body, or undefined when over the limit: the rest is read and dropped so the client gets the answer, a runaway one is cut off. */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
    else if (size > 4 * maxBytes) req.destroy();
  }
  return size > maxBytes ? undefined : Buffer.concat(chunks, size);
}

/**
 * A small body goes in one piece (with its Content-Length, as before); a large one (a relayed file) streams
 * through in chunks and is never held whole.
 */
async function writeBody(body: NodeWebStream<Uint8Array>, res: ServerResponse): Promise<void> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      res.end(Buffer.concat(head));
      return;
    }
    head.push(value);
    size += value.length;
    if (size >= SMALL_BODY_BYTES) break;
  }
  reader.releaseLock();
  for (const chunk of head) res.write(chunk);
  await pipeline(Readable.fromWeb(body), res);
}

const SMALL_BODY_BYTES = 256 * 1024;

/** Turns a Fetch-style handler into a Node request listener. */
export function toNodeListener(handler: FetchHandler, baseUrl = 'http://localhost', limit: BodyLimit = {}) {
  const maxBodyBytes = limit.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tooLarge = limit.tooLarge ?? (() => new Response(null, { status: 413 }));
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', baseUrl);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
        else if (v !== undefined) headers.set(k, v);
      }
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const body = hasBody ? await readBody(req, maxBodyBytes) : undefined;
      const response = hasBody && !body
        ? tooLarge()
        : await handler(new Request(url, { method: req.method, headers, body: body ? new Uint8Array(body) : undefined }), { remoteAddress: req.socket.remoteAddress ?? '', dropConnection: () => res.socket?.destroy() });
      const outHeaders: Record<string, string | string[]> = {};
      response.headers.forEach((v, k) => {
        const prev = outHeaders[k];
        outHeaders[k] = prev === undefined ? v : ([] as string[]).concat(prev, v);
      });
      res.writeHead(response.status, outHeaders);
      if (req.method === 'HEAD' || response.body === null) {
        res.end();
        return;
      }
      await writeBody(response.body as NodeWebStream, res);
    } catch {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500);
      res.end();
    }
  };
}

export interface ServedHandler {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Serves a Fetch handler on loopback (port 0 = any free port); used by the server, emulators and tests. */
export async function serveFetch(handler: FetchHandler, opts: { port?: number; host?: string } & BodyLimit = {}): Promise<ServedHandler> {
  const host = opts.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const server = createServer(toNodeListener(handler, `http://${shownHost}`, opts));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
