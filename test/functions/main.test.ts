import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, runScript, waitForHealthy } from '../support/processes';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('npm start on the embedded defaults', () => {
  it('serves a healthy /healthz, lets a job run through it, stops cleanly on SIGTERM and keeps the data', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'familybot-start-'));
    dirs.push(dataDir);
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' };

    const server = runScript('functions/main.ts', [], env);
    const res = await waitForHealthy(`http://127.0.0.1:${port}/healthz`, 40_000);
    const health = (await res.json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: 'ok',
      database: { mode: 'embedded', reachable: true, schemaVersion: expect.stringMatching(/^\d{14}$/) },
      channels: { telegram: 'emulated', whatsapp: 'emulated' },
    });
    expect((await fetch(`http://127.0.0.1:${port}/telegram/webhook`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/nowhere`)).status).toBe(404);

    // while the server holds the database, a one-shot job goes through it
    const job = runScript('functions/cli/job.ts', ['housekeeping', '--now', '2026-11-23T10:00:00+01:00'], env);
    const jobDone = await job.done;
    expect(jobDone.code, jobDone.stderr).toBe(0);
    expect(JSON.parse(jobDone.stdout)).toMatchObject({ job: 'housekeeping', slot: '2026-11-23', ran: true, via: 'server' });

    server.child.kill('SIGTERM');
    const stopped = await server.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('"msg":"stopped"');
    expect(existsSync(join(dataDir, 'db.lock'))).toBe(false);

    // with no server, the command opens the database itself, and the slot it ran before is remembered
    const again = await runScript('functions/cli/job.ts', ['housekeeping', '--now', '2026-11-23T18:00:00+01:00'], env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ran: false, reason: 'this slot already ran', via: 'embedded' });
  }, 90_000);

  it('stops at once with one line naming a bad variable', async () => {
    const out = await runScript('functions/main.ts', [], { PORT: 'eighty' }).done;
    expect(out.code).toBe(1);
    expect(out.stderr.trim()).toBe('Configuration error: PORT must be a whole number from 1 to 65535 (got "eighty")');
  });

  it('refuses a database made before the history was squashed with one line saying what to do', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'familybot-old-'));
    dirs.push(dataDir);
    const old = await PGlite.create(join(dataDir, 'pgdata'));
    await old.exec(`create schema supabase_migrations;
      create table supabase_migrations.schema_migrations (version text not null primary key, statements text[], name text);
      insert into supabase_migrations.schema_migrations (version, name) values ('20261123090000', 'families');`);
    await old.close();
    const out = await runScript('functions/main.ts', [], { DATA_DIR: dataDir, PORT: String(await freePort()) }).done;
    expect(out.code).toBe(1);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^this database was built with migrations that no longer exist \(20261123090000_families\).*delete DATA_DIR/);
  }, 60_000);

  it('tells a job command it was given a bad clock or job', async () => {
    const bad = await runScript('functions/cli/job.ts', ['housekeeping', '--now', 'tomorrow'], {}).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--now must be an ISO-8601 date-time');
    const unknown = await runScript('functions/cli/job.ts', ['fly'], {}).done;
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no job named "fly"');
  });
});
