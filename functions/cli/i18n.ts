import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../../bot/clock';
import { LANGUAGES, isLanguage } from '../../bot/i18n';
import { catalogMap, DEFAULT_DIRS, KNOWLEDGE_PREFIX, readCatalog, writeCatalog, type CatalogDirs } from '../../bot/locales/catalog';
import { exportPo, planImport, PoSyntaxError, readPo, type PoFile } from '../../bot/locales/po';
import { formatStatus, glossaryFor, languageStatus, markReviewed, readReview, textProblems, writeReview } from '../../bot/locales/review';
import { romeDay } from '../../bot/time';
import { writeKnowledgeSeed } from './knowledge-seed';

/** `npm run i18n -- <command>`: the translators' workflow, from the glossary check to a native reviewer's sign-off. */
const USAGE = `usage: npm run i18n -- <command> [options]
  check [lang…]                                glossary words and script, one line per problem
  export <lang> [--out file.po]                a PO file for Poedit or Weblate (default ./<lang>.po)
  import <lang> <file.po> [--reviewer "Name"]  checks the whole file, writes only if all is right; with
                                               --reviewer, every entry no longer flagged fuzzy becomes reviewed
  status [lang…]                               texts, reviewed, draft, changed since review, last review, problems
options of every command (tests point them at copies):
  --locales <dir>    interface texts, with glossary/ and review/ inside (default locales/)
  --knowledge <dir>  knowledge base texts (default supabase/knowledge/)
  --seed <file>      knowledge seed that import regenerates (default <knowledge>/../seeds/knowledge.sql)`;

export interface I18nIo {
  out(line: string): void;
  err(line: string): void;
  clock: Clock;
  /** where a relative --out or PO file path starts */
  cwd: string;
}

class UsageError extends Error {}

interface Options {
  dirs: CatalogDirs;
  seed: string;
  out?: string;
  reviewer?: string;
}

function languagesOf(args: string[]): string[] {
  const bad = args.filter((l) => !isLanguage(l));
  if (bad.length) throw new UsageError(`unknown language ${bad.join(', ')}`);
  return args;
}

function check(langs: string[], opts: Options, io: I18nIo): number {
  const glossary = glossaryFor(opts.dirs);
  const italian = catalogMap(readCatalog('it', opts.dirs));
  let problems = 0;
  for (const lang of langs.length ? langs : LANGUAGES.filter((l) => l !== 'it')) {
    for (const p of textProblems(lang, readCatalog(lang, opts.dirs), italian, glossary)) {
      io.out(`${lang}\t${p.id}\t${p.reason}`);
      problems++;
    }
  }
  io.err(`${problems} problem(s)`);
  return problems ? 1 : 0;
}

function exportCommand([lang, ...extra]: string[], opts: Options, io: I18nIo): number {
  if (!lang || extra.length) throw new UsageError('export needs one language');
  languagesOf([lang]);
  if (lang === 'it') throw new UsageError('it is the source language (the msgid of every PO file): export another language');
  const texts = readCatalog(lang, opts.dirs);
  const file = exportPo({
    lang,
    texts,
    italian: catalogMap(readCatalog('it', opts.dirs)),
    english: catalogMap(readCatalog('en', opts.dirs)),
    glossary: glossaryFor(opts.dirs),
    review: readReview(lang, opts.dirs),
    exportedAt: io.clock.now(),
  });
  const path = resolve(io.cwd, opts.out ?? `${lang}.po`);
  writeFileSync(path, file);
  io.out(`wrote ${path} (${texts.length} texts)`);
  return 0;
}

async function importCommand([lang, file, ...extra]: string[], opts: Options, io: I18nIo): Promise<number> {
  if (!lang || !file || extra.length) throw new UsageError('import needs a language and a PO file');
  languagesOf([lang]);
  if (lang === 'it') throw new UsageError('it is the source language: its texts are edited in locales/it.json, not imported');
  if (opts.reviewer !== undefined && !opts.reviewer.trim()) throw new UsageError('--reviewer needs a name');
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) {
    io.err(`${file}: no such file`);
    return 1;
  }
  let po: PoFile;
  try {
    po = readPo(readFileSync(path));
  } catch (err) {
    if (!(err instanceof PoSyntaxError)) throw err;
    io.err(`${file}:${err.line}: not a readable PO file: ${err.message}`);
    return 1;
  }
  const texts = readCatalog(lang, opts.dirs);
  const plan = planImport(po, { lang, texts, italian: catalogMap(readCatalog('it', opts.dirs)), glossary: glossaryFor(opts.dirs) });
  if (plan.problems.length) {
    for (const p of plan.problems) io.err(`${file}:${p.line}: ${p.reason}`);
    io.err(`${plan.problems.length} problem(s): nothing written`);
    return 1;
  }
  for (const n of plan.notes) io.out(`${file}:${n.line}: note: ${n.reason}`);
  if (plan.changes.size) writeCatalog(lang, plan.changes, opts.dirs);
  if ([...plan.changes.keys()].some((id) => id.startsWith(KNOWLEDGE_PREFIX))) {
    await writeKnowledgeSeed(opts.dirs.knowledge, opts.seed);
    io.out(`wrote ${opts.seed}`);
  }
  let reviewed = 0;
  if (opts.reviewer) {
    const review = readReview(lang, opts.dirs);
    reviewed = markReviewed(review, plan.cleared, opts.reviewer.trim(), romeDay(io.clock.now())).length;
    if (reviewed) writeReview(lang, review, readCatalog(lang, opts.dirs), opts.dirs);
  }
  io.out(`${lang}: changed ${plan.changes.size}, unchanged ${plan.unchanged}, untranslated ${plan.untranslated}, reviewed ${reviewed}`);
  return 0;
}

function status(langs: string[], opts: Options, io: I18nIo): number {
  const glossary = glossaryFor(opts.dirs);
  const italian = catalogMap(readCatalog('it', opts.dirs));
  const rows = (langs.length ? langs : [...LANGUAGES]).map((lang) =>
    languageStatus(lang, readCatalog(lang, opts.dirs), readReview(lang, opts.dirs), italian, glossary),
  );
  io.out(formatStatus(rows));
  return 0;
}

function parse(argv: string[], cwd: string): { command?: string; args: string[]; opts: Options } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      reviewer: { type: 'string' },
      locales: { type: 'string' },
      knowledge: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const dirs: CatalogDirs = {
    locales: values.locales ? resolve(cwd, values.locales) : DEFAULT_DIRS.locales,
    knowledge: values.knowledge ? resolve(cwd, values.knowledge) : DEFAULT_DIRS.knowledge,
  };
  // the seed sits beside the knowledge folder (supabase/knowledge → supabase/seeds), so a copy regenerates its own
  const seed = values.seed ? resolve(cwd, values.seed) : join(dirname(dirs.knowledge), 'seeds', 'knowledge.sql');
  const [command, ...args] = positionals;
  return { command, args, opts: { dirs, seed, out: values.out, reviewer: values.reviewer } };
}

/** Runs one command; returns the exit code (0 fine, 1 problems found, 2 a usage mistake). */
export async function runI18n(argv: string[], io: I18nIo): Promise<number> {
  try {
    const { command, args, opts } = parse(argv, io.cwd);
    switch (command) {
      case 'check':
        return check(languagesOf(args), opts, io);
      case 'export':
        return exportCommand(args, opts, io);
      case 'import':
        return await importCommand(args, opts, io);
      case 'status':
        return status(languagesOf(args), opts, io);
      default:
        throw new UsageError(command ? `unknown command ${command}` : 'no command');
    }
  } catch (err) {
    // parseArgs reports an unknown or incomplete option with a TypeError carrying a code
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!usage) throw err;
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runI18n(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    clock: systemClock,
    // npm run starts scripts in the package folder; INIT_CWD is where the translator typed the command
    cwd: process.env.INIT_CWD ?? process.cwd(),
  });
}
