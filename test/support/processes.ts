import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of the project's entry points (functions/…) as its own process, as `npm start` or `npm run job` would. */
export function runScript(script: string, args: string[], env: Record<string, string>, opts: { direct?: boolean } = {}): { child: ChildProcess; done: Promise<Finished>; output: () => string } {
  // direct: node itself with tsx as a loader, so a signal reaches the server with no relay in between
  const [cmd, argv] = opts.direct ? [process.execPath, ['--import', 'tsx', script, ...args]] : [TSX, [script, ...args]];
  // METRICS_PORT 0: servers started side by side by parallel tests would all want 127.0.0.1:9464 (a test sets its own)
  const child = spawn(cmd, argv, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', METRICS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Finished>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

export async function waitForHealthy(url: string, timeoutMs: number): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return res;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
