import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bot/config';
import { openDataDoor } from '../../../bot/db/client';
import { runScript } from '../../support/processes';

describe('npm run report on the embedded database', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'familybot-report-'));
    const door = await openDataDoor(loadConfig({ DATA_DIR: dataDir }));
    try {
      // 9 families in milano-1, 6 in milano-2, 3 in milano-9
      await door.executor!.query(`
        insert into public.families (district_code, created_at)
        select d.code, '2026-11-10T10:00:00Z' from (values ('milano-1', 9), ('milano-2', 6), ('milano-9', 3)) d(code, n), generate_series(1, d.n)`);
    } finally {
      await door.close();
    }
  }, 60_000);
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const report = async (format: 'md' | 'csv') => {
    const out = await runScript('functions/cli/report.ts', ['--from', '2026-11-01', '--to', '2026-11-30', '--format', format], { DATA_DIR: dataDir }).done;
    expect(out.code, out.stderr).toBe(0);
    return out.stdout;
  };

  it('shows a district with 3 families as "<5", never as 3, in the Markdown and the CSV', async () => {
    const md = await report('md');
    expect(md).toContain('- Families: **18** (18 new in the period)');
    expect(md).toMatch(/\| milano-1 \| 9 \| █+ \|/);
    expect(md).toMatch(/\| milano-2 \| 6 \| █+\S* \|/);
    expect(md).toContain('| milano-9 | <5 |  |');
    expect(md).not.toMatch(/milano-9 \| 3/);

    const csv = await report('csv');
    expect(csv).toContain('families,district,milano-1,total,9\n');
    expect(csv).toContain('families,district,milano-9,total,<5\n');
    expect(csv).not.toContain('milano-9,total,3');
    expect(csv.split('\n').filter((line) => /,[1-4]$/.test(line) && !/^broadcasts,all,,total,|,median_/.test(line))).toEqual([]);
  }, 60_000);
});
