import { systemClock } from '../../bot/clock';
import { call } from '../../bot/db/rpc';
import { periodOf, publicFigures, renderReport, type ProgrammeReport } from '../../bot/features/programme/report';
import { runCommand, UsageError } from './common';

/** `npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format md|csv]`: the programme's figures, counts only. */
const USAGE = 'usage: npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--format md|csv]   (default: this month so far, md)';

function parseArgs(argv: string[]) {
  const opts: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!;
    if (!['--from', '--to', '--format'].includes(name)) throw new UsageError(`unknown option ${name}\n${USAGE}`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value\n${USAGE}`);
    opts[name.slice(2)] = value;
  }
  const format = opts.format ?? 'md';
  if (format !== 'md' && format !== 'csv') throw new UsageError(`--format must be md or csv (got "${format}")`);
  const period = periodOf(opts.from, opts.to, systemClock.now());
  if ('error' in period) throw new UsageError(`--${period.error}\n${USAGE}`);
  return { ...period, format: format as 'md' | 'csv' };
}

await (async () => {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  await runCommand(async ({ door }) => {
    const report = await call<ProgrammeReport>(door.supabase, 'programme_report', { p_from: args.from, p_to: args.to, p_now: systemClock.now().toISOString() });
    process.stdout.write(renderReport(publicFigures(report), args.format));
  });
})();
