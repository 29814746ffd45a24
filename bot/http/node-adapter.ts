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

const MAX_BODY_BYTES = 5 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Turns a Fetch-style handler into a Node request listener. */
export function toNodeListener(handler: FetchHandler, baseUrl = 'http://localhost') {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? '/', baseUrl);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
        else if (v !== undefined) headers.set(k, v);
      }
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const body = hasBody ? await readBody(req) : undefined;
      const request = new Request(url, { method: req.method, headers, body: body ? new Uint8Array(body) : undefined });
      const response = await handler(request, { remoteAddress: req.socket.remoteAddress ?? '', dropConnection: () => res.socket?.destroy() });
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
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      if (!res.headersSent) res.writeHead((err as Error).message === 'request body too large' ? 413 : 500);
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
export async function serveFetch(handler: FetchHandler, opts: { port?: number; host?: string } = {}): Promise<ServedHandler> {
  const host = opts.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const server = createServer(toNodeListener(handler, `http://${shownHost}`));
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
