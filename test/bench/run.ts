import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../bot/config';
import { openDataDoor } from '../../bot/db/client';
import { freePort, runScript, waitForHealthy } from '../support/processes';

/** `npm run bench`: prints figures; not a timed test. Each entry says what it measures. */

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(2)} ms`;

async function startToHealthy(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const server = runScript('functions/main.ts', [], { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });
  await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 60_000);
  const elapsed = performance.now() - t0;
  server.child.kill('SIGTERM');
  await server.done;
  return elapsed;
}

async function benchStart() {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-'));
  try {
    const fresh = await startToHealthy(dataDir);
    const warm: number[] = [];
    for (let i = 0; i < 3; i++) warm.push(await startToHealthy(dataDir));
    console.log(`start → healthy /healthz (process spawn included): fresh DATA_DIR ${ms(fresh)}; warm DATA_DIR median ${ms(warm.sort((a, b) => a - b)[1]!)} (3 runs)`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function benchRpc() {
  const dataDir = await mkdtemp(join(tmpdir(), 'familybot-bench-'));
  const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
  try {
    for (let i = 0; i < 200; i++) await door.supabase.rpc('health');
    const samples: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t0 = performance.now();
      const { error } = await door.supabase.rpc('health');
      samples.push(performance.now() - t0);
      if (error) throw new Error(error.message);
    }
    samples.sort((a, b) => a - b);
    console.log(`trivial .rpc('health') through the embedded transport (PGlite): p50 ${ms(quantile(samples, 0.5))}, p99 ${ms(quantile(samples, 0.99))} (2000 calls)`);
  } finally {
    await door.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const BENCHES: Record<string, () => Promise<void>> = { start: benchStart, rpc: benchRpc };

const only = process.argv.slice(2);
for (const [name, run] of Object.entries(BENCHES)) {
  if (only.length === 0 || only.includes(name)) await run();
}
