import { readFile, stat } from 'node:fs/promises';
import { systemClock } from '../../bot/clock';
import { attempt, call } from '../../bot/db/rpc';
import { parseCalendarCsv } from '../../bot/features/care/import';
import { parseCallsCsv } from '../../bot/features/calls/import';
import { parseFamiliesCsv, type ImportReference, type RowError } from '../../bot/features/staff/import';
import { knowledgeRowsFromSource, parseKnowledgeCsv, parseServicesCsv } from '../../bot/features/needs/knowledge-import';
import { readKnowledgeSource } from './knowledge-seed';
import { romeDay } from '../../bot/time';
import { runCommand, UsageError } from './common';

/**
 * `npm run import -- families|calendar|knowledge|services|calls <file.csv> [--skip-bad] [--dry-run]`: loads the caseload
 * the programme already follows, or the coordinators' edits to the care calendar, the knowledge base, the
 * services directory or the nido and housing calls. Every row is checked first; with any bad row nothing is imported, unless --skip-bad.
 * `npm run import -- knowledge supabase/knowledge` loads the repository's knowledge base itself: the way its edits
 * reach a database that already ran the seed.
 */
/** families per import_families call */
const FAMILIES_PER_CALL = 500;
const KINDS = ['families', 'calendar', 'knowledge', 'services', 'calls'];
const USAGE = `usage: npm run import -- ${KINDS.join('|')} <file.csv> [--skip-bad] [--dry-run]`;

await runCommand(async ({ door }) => {
  const [kind, file, ...flags] = process.argv.slice(2);
  if (!kind || !KINDS.includes(kind) || !file) throw new UsageError(USAGE);
  const unknown = flags.filter((f) => f !== '--skip-bad' && f !== '--dry-run');
  if (unknown.length) throw new UsageError(`unknown option ${unknown[0]}\n${USAGE}`);
  const skipBad = flags.includes('--skip-bad');
  const dryRun = flags.includes('--dry-run');

  if (kind === 'knowledge' && (await stat(file).catch(() => undefined))?.isDirectory()) {
    const rows = knowledgeRowsFromSource(await readKnowledgeSource(file));
    if (dryRun) return console.log(JSON.stringify({ file, rows: rows.length, imported: false, reason: 'dry run' }, null, 2));
    const result = await call<unknown>(door.supabase, 'kb_upsert', { p_rows: rows, p_now: systemClock.now().toISOString() });
    return console.log(JSON.stringify({ file, rows: rows.length, imported: true, result, via: door.mode }, null, 2));
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const now = systemClock.now();
  /** Rows checked, then upserted by one RPC: the same steps for the calendar, the knowledge base and the services. */
  const upsert = async (parsed: { rows: unknown[]; errors: RowError[] }, rpc: string, arg: string) => {
    for (const e of parsed.errors) console.error(`${file}:${e.line}: ${e.reason}`);
    const summary = { file, rows: parsed.rows.length + parsed.errors.length, bad_rows: parsed.errors.length };
    if (parsed.errors.length && !skipBad) {
      console.log(JSON.stringify({ ...summary, imported: false, reason: 'bad rows: nothing imported (fix them, or use --skip-bad)' }, null, 2));
      process.exitCode = 1;
      return;
    }
    if (dryRun) return console.log(JSON.stringify({ ...summary, imported: false, reason: 'dry run' }, null, 2));
    const result = await call<unknown>(door.supabase, rpc, { [arg]: parsed.rows, p_now: now.toISOString() });
    console.log(JSON.stringify({ ...summary, imported: true, result, via: door.mode }, null, 2));
  };
  if (kind === 'calendar') return upsert(parseCalendarCsv(text), 'care_items_upsert', 'p_items');
  if (kind === 'knowledge') return upsert(parseKnowledgeCsv(text), 'kb_upsert', 'p_rows');
  if (kind === 'services' || kind === 'calls') {
    const codes = (await call<{ code: string }[]>(door.supabase, 'districts_list')).map((d) => d.code);
    return kind === 'services' ? upsert(parseServicesCsv(text, codes), 'services_upsert', 'p_rows') : upsert(parseCallsCsv(text, codes), 'calls_upsert', 'p_rows');
  }
  const ref = await call<ImportReference>(door.supabase, 'import_reference');
  const parsed = parseFamiliesCsv(text, ref, romeDay(now));
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
  // in calls that each finish well inside Supabase's 8-second time-out; a second run adds nothing twice
  const totals: Record<string, number> = {};
  for (let i = 0; i < families.length; i += FAMILIES_PER_CALL) {
    const result = await attempt<Record<string, number>>(door.supabase, 'import_families', { p_families: families.slice(i, i + FAMILIES_PER_CALL), p_now: now.toISOString() });
    // how far it got, so the coordinator knows a second run finishes the job
    if ('error' in result) throw new Error(`import_families failed after ${i} of ${families.length} families (run the same import again to finish): ${result.error.reason}`);
    for (const [k, v] of Object.entries(result.data)) totals[k] = (totals[k] ?? 0) + v;
  }
  console.log(JSON.stringify({ ...summary, imported: true, result: totals, via: door.mode }, null, 2));
});
