import { systemClock } from '../../bot/clock';
import { createTranslator } from '../../bot/i18n';
import { parseInstant } from '../../bot/time';
import { findJob, JOBS, runJob } from '../jobs';
import { runCommand, UsageError } from './common';

/** `npm run job -- <name> [--now <ISO-8601>]`: runs one scheduled job once and prints what it did as JSON. */
const USAGE = `usage: npm run job -- <name> [--now <ISO-8601>]\njobs:\n${JOBS.map((j) => `  ${j.name.padEnd(14)} ${j.description}`).join('\n')}`;

function parseArgs(argv: string[]): { name: string; now: Date } {
  const [name, ...rest] = argv;
  if (!name || name.startsWith('-')) throw new UsageError(USAGE);
  let now = systemClock.now();
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--now') {
      const parsed = parseInstant(rest[i + 1] ?? '');
      if (!parsed) throw new UsageError(`--now must be an ISO-8601 date-time such as 2026-11-23T09:00:00+01:00 (got "${rest[i + 1] ?? ''}")`);
      now = parsed;
      i++;
    } else {
      throw new UsageError(`unknown option ${rest[i]}\n${USAGE}`);
    }
  }
  return { name, now };
}

await (async () => {
  let args: { name: string; now: Date };
  try {
    args = parseArgs(process.argv.slice(2));
    if (!findJob(args.name)) throw new UsageError(`no job named "${args.name}"\n${USAGE}`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 2;
    return;
  }
  await runCommand(async ({ door, logger, config }) => {
    const outcome = await runJob(findJob(args.name)!, { db: door.supabase, logger, config, i18n: createTranslator() }, args.now);
    console.log(JSON.stringify({ ...outcome, now: args.now.toISOString(), via: door.mode }, null, 2));
  });
})();
