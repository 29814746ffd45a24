import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bot/config';
import { announceServer, openDataDoor, type DataDoor } from '../../bot/db/client';
import { serveFetch } from '../../bot/http/node-adapter';

const opened: DataDoor[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'familybot-data-'));
  dirs.push(dir);
  return dir;
}

describe('the embedded data door', () => {
  it('keeps the data across a restart on the same DATA_DIR and migrates only once', async () => {
    const dataDir = await tempDataDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = await openDataDoor(config);
    expect(first.mode).toBe('embedded');
    expect(first.schemaVersion).toMatch(/^\d{14}$/);
    const claim = await first.supabase.rpc('job_run_claim', { p_job: 'housekeeping', p_slot: '2026-11-23', p_now: '2026-11-23T09:00:00Z' });
    expect(claim.data).toBe(true);
    await first.close();

    const second = await openDataDoor(config);
    opened.push(second);
    const again = await second.supabase.rpc('job_run_claim', { p_job: 'housekeeping', p_slot: '2026-11-23', p_now: '2026-11-23T10:00:00Z' });
    expect(again.data).toBe(false);
    const applied = await second.executor!.query<{ n: number }>('select count(*)::int as n from supabase_migrations.schema_migrations');
    const files = (await import('../../bot/db/migrate')).listMigrations();
    expect(applied[0]!.n).toBe((await files).length);
  });

  it('refuses a second process on a held DATA_DIR, and goes through the running server when asked', async () => {
    const dataDir = await tempDataDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    const owner = await openDataDoor(config);
    opened.push(owner);
    // pretend another process holds it: the lock names a live pid that is not ours
    await writeFile(join(dataDir, 'db.lock'), String(process.ppid));
    await expect(openDataDoor(config)).rejects.toThrow(/in use by process/);

    // the "server" of that process exposes the transport on loopback
    const served = await serveFetch(async (req) => owner.transport!.handle(req));
    await writeFile(join(dataDir, 'server.json'), JSON.stringify({ pid: process.ppid, port: served.port }));
    const via = await openDataDoor(config, { viaServer: true });
    expect(via.mode).toBe('server');
    const { data, error } = await via.supabase.rpc('health');
    expect(error).toBeNull();
    expect(data).toMatchObject({ ok: true, schema_version: owner.schemaVersion });
    await served.close();
    await writeFile(join(dataDir, 'db.lock'), String(process.pid));
  });

  it('takes over a lock left by a process that died', async () => {
    const dataDir = await tempDataDir();
    await writeFile(join(dataDir, 'db.lock'), '999999');
    const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
    opened.push(door);
    expect((await readFile(join(dataDir, 'db.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await announceServer(dataDir, 1234);
    expect(JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8'))).toEqual({ pid: process.pid, port: 1234 });
  });
});
