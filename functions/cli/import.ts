import { readFile } from 'node:fs/promises';
import { systemClock } from '../../bot/clock';
import { parseCalendarCsv } from '../../bot/import/calendar';
import { parseFamiliesCsv, type ImportReference } from '../../bot/import/families';
import { romeDay } from '../../bot/time';
import { runCommand, UsageError } from './common';

/**
 * `npm run import -- families|calendar <file.csv> [--skip-bad] [--dry-run]`: loads the caseload the programme
 * already follows, or the coordinators' edits to the care calendar. Every row is checked first; with any bad
 * row nothing is imported, unless --skip-bad.
 */
const USAGE = 'usage: npm run import -- families|calendar <file.csv> [--skip-bad] [--dry-run]';

await runCommand(async ({ door }) => {
  const [kind, file, ...flags] = process.argv.slice(2);
  if ((kind !== 'families' && kind !== 'calendar') || !file) throw new UsageError(USAGE);
  const unknown = flags.filter((f) => f !== '--skip-bad' && f !== '--dry-run');
  if (unknown.length) throw new UsageError(`unknown option ${unknown[0]}\n${USAGE}`);
  const skipBad = flags.includes('--skip-bad');
  const dryRun = flags.includes('--dry-run');

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const now = systemClock.now();
  if (kind === 'calendar') {
    const parsed = parseCalendarCsv(text);
    for (const e of parsed.errors) console.error(`${file}:${e.line}: ${e.reason}`);
    const summary = { file, rows: parsed.rows.length + parsed.errors.length, bad_rows: parsed.errors.length };
    if (parsed.errors.length && !skipBad) {
      console.log(JSON.stringify({ ...summary, imported: false, reason: 'bad rows: nothing imported (fix them, or use --skip-bad)' }, null, 2));
      process.exitCode = 1;
      return;
    }
    if (dryRun) return console.log(JSON.stringify({ ...summary, imported: false, reason: 'dry run' }, null, 2));
    const result = await door.supabase.rpc('care_items_upsert', { p_items: parsed.rows, p_now: now.toISOString() });
    if (result.error) throw new Error(`care_items_upsert failed: ${result.error.message}`);
    console.log(JSON.stringify({ ...summary, imported: true, result: result.data, via: door.mode }, null, 2));
    return;
  }
  const ref = await door.supabase.rpc('import_reference');
  if (ref.error) throw new Error(`import_reference failed: ${ref.error.message}`);
  const parsed = parseFamiliesCsv(text, ref.data as ImportReference, romeDay(now));
  for (const e of parsed.errors) console.error(`${file}:${e.line}: ${e.reason}`);

  const summary = { file, rows: parsed.rows, bad_rows: parsed.errors.length, families: parsed.families.length, children: parsed.families.reduce((n, f) => n + f.children.length, 0) };
  if (parsed.errors.length && !skipBad) {
    console.log(JSON.stringify({ ...summary, imported: false, reason: 'bad rows: nothing imported (fix them, or use --skip-bad)' }, null, 2));
    process.exitCode = 1;
    return;
  }
  if (dryRun) {
    console.log(JSON.stringify({ ...summary, imported: false, reason: 'dry run' }, null, 2));
    return;
  }
  const families = parsed.families.map(({ lines: _lines, ...f }) => f);
  const result = await door.supabase.rpc('import_families', { p_families: families, p_now: now.toISOString() });
  if (result.error) throw new Error(`import_families failed: ${result.error.message}`);
  console.log(JSON.stringify({ ...summary, imported: true, result: result.data, via: door.mode }, null, 2));
});
