import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { po, type PoData, type PoMessage } from 'gettext-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../bot/clock';
import { createTranslator } from '../../bot/i18n';
import { catalogMap, DEFAULT_DIRS, readCatalog, writeCatalog, type CatalogDirs } from '../../bot/locales/catalog';
import { exportPo, readPo } from '../../bot/locales/po';
import { glossaryFor, markReviewed, readReview, reviewState, writeReview } from '../../bot/locales/review';
import { runI18n } from '../../functions/cli/i18n';

type Message = PoMessage;

// 00:30 on 15 March in Rome, still the 14th in UTC: the review date is Rome's
const NOW = '2027-03-14T23:30:00Z';
const ROME_DAY = '2027-03-15';

interface Tree {
  root: string;
  dirs: CatalogDirs;
  seed: string;
}

const trees: string[] = [];
afterEach(() => {
  for (const root of trees.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A copy of locales/ and supabase/knowledge/ (others edit the real ones meanwhile), with its own seed file. */
function copyTree(): Tree {
  const root = mkdtempSync(join(tmpdir(), 'i18n-po-'));
  trees.push(root);
  const dirs = { locales: join(root, 'locales'), knowledge: join(root, 'supabase', 'knowledge') };
  cpSync(DEFAULT_DIRS.locales, dirs.locales, { recursive: true });
  cpSync(DEFAULT_DIRS.knowledge, dirs.knowledge, { recursive: true });
  mkdirSync(join(root, 'supabase', 'seeds'));
  const seed = join(root, 'supabase', 'seeds', 'knowledge.sql');
  writeFileSync(seed, '-- before the import\n');
  return { root, dirs, seed };
}

/** Every file of the copy but the PO files, to prove an import wrote nothing. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.endsWith('.po')) out[relative(root, path)] = readFileSync(path, 'utf8');
    }
  };
  walk(root);
  return out;
}

async function cli(tree: Tree, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runI18n([...argv, '--locales', tree.dirs.locales, '--knowledge', tree.dirs.knowledge], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    clock: new FakeClock(NOW),
    cwd: tree.root,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function exported(tree: Tree, lang: string): Promise<PoData> {
  const { code } = await cli(tree, 'export', lang);
  expect(code).toBe(0);
  return po.parse(readFileSync(join(tree.root, `${lang}.po`)));
}

const entry = (data: PoData, id: string): Message => {
  const m = Object.values(data.translations[id] ?? {})[0];
  if (!m) throw new Error(`no entry ${id}`);
  return m;
};

/** Sets an entry's msgstr; `cleared` takes the fuzzy flag off, as a reviewer does in Poedit. */
function edit(data: PoData, id: string, text: string, cleared = true): void {
  const m = entry(data, id);
  m.msgstr = [text];
  if (cleared && m.comments) delete m.comments.flag;
}

function save(tree: Tree, data: PoData, name = 'reviewed.po'): { path: string; text: string } {
  const path = join(tree.root, name);
  writeFileSync(path, po.compile(data));
  return { path, text: readFileSync(path, 'utf8') };
}

/** The 1-based line of an entry's msgctxt, found the plain way. */
const lineOf = (text: string, id: string): number => text.split('\n').indexOf(`msgctxt "${id}"`) + 1;

describe('export', () => {
  it('refuses Italian: it is the source of every file', async () => {
    const tree = copyTree();
    const run = await cli(tree, 'export', 'it');
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/it is the source language/);
    expect(readdirSync(tree.root).filter((f) => f.endsWith('.po'))).toEqual([]);
  });

  it('gives every text one entry in catalog order: the id as msgctxt, the Italian as msgid, the language as msgstr', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    const fr = readCatalog('fr', tree.dirs);
    const italian = catalogMap(readCatalog('it', tree.dirs));
    expect(data.headers.Language).toBe('fr');
    expect(data.headers['Plural-Forms']).toBeUndefined();
    const ids = Object.keys(data.translations).filter((c) => c !== '');
    expect(ids).toEqual(fr.map((t) => t.id));
    for (const t of fr.slice(0, 50)) {
      expect(entry(data, t.id)).toMatchObject({ msgctxt: t.id, msgid: italian.get(t.id)!.text, msgstr: [t.text] });
    }
    const header = readFileSync(join(tree.root, 'fr.po'), 'utf8').split('msgid ""')[0]!;
    expect(header).toMatch(/Plural forms are separate entries, one per i18next key/);
  });

  it('gives a plural form Italian does not have the Italian _other as its source', async () => {
    const tree = copyTree();
    const italian = catalogMap(readCatalog('it', tree.dirs));
    const few = readCatalog('ar', tree.dirs).find((t) => t.id.endsWith('_few') && !italian.has(t.id))!;
    const data = await exported(tree, 'ar');
    expect(entry(data, few.id).msgid).toBe(italian.get(few.id.replace(/_few$/, '_other'))!.text);
  });

  it('notes the English, the glossary terms the Italian uses, search words, and the file each text lives in', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    const glossary = glossaryFor(tree.dirs);
    const en = catalogMap(readCatalog('en', tree.dirs));
    const nido = entry(data, 'menu.nido');
    expect(nido.comments!.extracted).toContain(`en: ${en.get('menu.nido')!.text}`);
    expect(nido.comments!.extracted).toContain(`glossary: ${glossary.source.nido!.it} → ${glossary.byLanguage.fr!.nido!.term} (${glossary.source.nido!.definition})`);
    expect(nido.comments!.reference).toBe('locales/fr.json');
    const keywords = entry(data, 'knowledge:vaccines-mandatory.keywords');
    expect(keywords.comments!.extracted).toContain('search words: what she might type, not read by her');
    expect(keywords.comments!.reference).toBe('supabase/knowledge/fr.json');
    expect(entry(data, 'menu.ask').comments!.extracted).not.toContain('search words');
  });

  it('flags drafts fuzzy, and texts reviewed as they are now not', async () => {
    const tree = copyTree();
    const fr = readCatalog('fr', tree.dirs);
    const review = readReview('fr', tree.dirs);
    const ask = fr.find((t) => t.id === 'menu.ask')!;
    const nido = fr.find((t) => t.id === 'menu.nido')!;
    markReviewed(review, [ask, { ...nido, text: 'an older text' }], 'Amina', '2027-01-10');
    writeReview('fr', review, fr, tree.dirs);
    const data = await exported(tree, 'fr');
    expect(entry(data, 'menu.ask').comments!.flag).toBeUndefined();
    expect(entry(data, 'menu.nido').comments!.flag).toBe('fuzzy');
    expect(entry(data, 'menu.help').comments!.flag).toBe('fuzzy');
  });

  it('is a file the parser reads back to the same texts', () => {
    const tree = copyTree();
    const texts = readCatalog('uk', tree.dirs);
    const file = exportPo({
      lang: 'uk',
      texts,
      italian: catalogMap(readCatalog('it', tree.dirs)),
      english: catalogMap(readCatalog('en', tree.dirs)),
      glossary: glossaryFor(tree.dirs),
      review: {},
      exportedAt: new Date(NOW),
    });
    expect(readPo(file).entries.map((e) => [e.id, e.msgstr])).toEqual(texts.map((t) => [t.id, t.text]));
  });
});

describe('import', () => {
  it('writes a reviewed interface text that the bot then says, reviewed by her on the day in Rome', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    edit(data, 'menu.ask', '❓ Pose ta question');
    const { path } = save(tree, data);
    const run = await cli(tree, 'import', 'fr', path, '--reviewer', 'Amina');
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/fr: changed 1, unchanged \d+, untranslated 0, reviewed 1$/);
    expect(createTranslator(tree.dirs.locales).t('fr')('menu.ask')).toBe('❓ Pose ta question');
    expect(readReview('fr', tree.dirs)['menu.ask']).toMatchObject({ state: 'reviewed', by: 'Amina', at: ROME_DAY });
    const status = await cli(tree, 'status', 'fr');
    expect(status.out.split('\n')[1]).toMatch(new RegExp(`^fr\\s+\\d+\\s+1\\s+\\d+\\s+0\\s+Amina, ${ROME_DAY}\\s+0$`));
  });

  it('writes a knowledge answer into the knowledge file and the regenerated seed', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    const id = 'knowledge:vaccines-mandatory.answer';
    const answer = `${entry(data, id).msgstr[0]} Demande au pédiatre.`;
    edit(data, id, answer);
    const run = await cli(tree, 'import', 'fr', save(tree, data).path, '--reviewer', 'Amina');
    expect(run.code).toBe(0);
    const kb = JSON.parse(readFileSync(join(tree.dirs.knowledge, 'fr.json'), 'utf8')) as Record<string, { answer: string }>;
    expect(kb['vaccines-mandatory']!.answer).toBe(answer);
    expect(readFileSync(tree.seed, 'utf8')).toContain(`'${answer.replace(/'/g, "''")}'`);
  });

  it('leaves the seed alone when no knowledge text changed', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    edit(data, 'menu.ask', '❓ Pose ta question');
    expect((await cli(tree, 'import', 'fr', save(tree, data).path)).code).toBe(0);
    expect(readFileSync(tree.seed, 'utf8')).toBe('-- before the import\n');
  });

  it('without a reviewer changes the text but leaves it a draft; an entry still fuzzy is not reviewed', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    edit(data, 'menu.ask', '❓ Pose ta question');
    edit(data, 'menu.help', '🆘 Aide', false);
    const path = save(tree, data).path;
    expect((await cli(tree, 'import', 'fr', path)).out).toMatch(/changed 2, .* reviewed 0$/);
    expect(readReview('fr', tree.dirs)).toEqual({});
    expect((await cli(tree, 'import', 'fr', path, '--reviewer', 'Amina')).out).toMatch(/changed 0, .* reviewed 1$/);
    expect(Object.keys(readReview('fr', tree.dirs))).toEqual(['menu.ask']);
  });

  it('counts an empty msgstr as untranslated and keeps the text', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    const before = entry(data, 'menu.ask').msgstr[0];
    edit(data, 'menu.ask', '');
    const run = await cli(tree, 'import', 'fr', save(tree, data).path, '--reviewer', 'Amina');
    expect(run.out).toMatch(/changed 0, .* untranslated 1, reviewed 0$/);
    expect(createTranslator(tree.dirs.locales).t('fr')('menu.ask')).toBe(before);
  });

  it('never undoes an edit made in the repository after the export', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    writeCatalog('fr', new Map([['menu.ask', '❓ Une question ?']]), tree.dirs);
    const run = await cli(tree, 'import', 'fr', save(tree, data).path, '--reviewer', 'Amina');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/reviewed\.po:\d+: note: edited in the repository since the export/);
    expect(createTranslator(tree.dirs.locales).t('fr')('menu.ask')).toBe('❓ Une question ?');
  });

  it('does not count a text as reviewed against an Italian that has changed since the export', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    const old = entry(data, 'menu.ask');
    data.translations['menu.ask'] = { 'Una domanda di prima': { ...old, msgid: 'Una domanda di prima' } };
    edit(data, 'menu.ask', '❓ Pose ta question');
    const { path, text } = save(tree, data);
    const run = await cli(tree, 'import', 'fr', path, '--reviewer', 'Amina');
    expect(run.out).toContain(`${path}:${lineOf(text, 'menu.ask')}: note: the Italian changed since this file was exported`);
    expect(run.out).toMatch(/changed 1, .* reviewed 0$/);
    expect(readReview('fr', tree.dirs)).toEqual({});
  });

  interface Refusal {
    name: string;
    lang: string;
    id: string;
    /** changes the exported file; returns nothing */
    change: (data: PoData, tree: Tree) => void;
    reasons: RegExp[];
  }

  const refusals: Refusal[] = [
    {
      name: 'a broken placeholder',
      lang: 'fr',
      id: 'profile.childSaved',
      change: (d) => edit(d, 'profile.childSaved', entry(d, 'profile.childSaved').msgstr[0]!.replace('{{date}}', '{{dat}}')),
      reasons: [/placeholder \{\{date\}\} missing/, /unknown placeholder \{\{dat\}\}/],
    },
    {
      name: 'a plural form that loses {{count}}',
      lang: 'fr',
      id: 'children.ageWeeks_one',
      change: (d) => edit(d, 'children.ageWeeks_one', 'une semaine'),
      reasons: [/plural: this form must keep \{\{count\}\}/],
    },
    {
      name: 'an id the catalog does not have',
      lang: 'fr',
      id: 'menu.noSuchKey',
      change: (d) => {
        d.translations['menu.noSuchKey'] = { 'Chiave': { msgctxt: 'menu.noSuchKey', msgid: 'Chiave', msgstr: ['Clé'] } };
      },
      reasons: [/unknown id menu\.noSuchKey/],
    },
    {
      name: 'the glossary word for nido left out',
      lang: 'fr',
      id: 'menu.nido',
      change: (d, tree) => {
        const forms = glossaryFor(tree.dirs).byLanguage.fr!.nido!.forms;
        const text = '🏫 Garderie';
        expect(forms.some((f) => text.toLowerCase().includes(f))).toBe(false);
        edit(d, 'menu.nido', text);
      },
      reasons: [/glossary: "nido" needs "crèche \(nido\)"/],
    },
    {
      name: 'an English word in a Chinese text',
      lang: 'zh',
      id: 'menu.ask',
      change: (d) => edit(d, 'menu.ask', `❓ question ${entry(d, 'menu.ask').msgstr[0]!.replace(/^❓\s*/, '')}`),
      reasons: [/script: Latin words question/],
    },
    {
      name: 'an edit made both in the file and in the repository since the export',
      lang: 'fr',
      id: 'menu.ask',
      change: (d, tree) => {
        writeCatalog('fr', new Map([['menu.ask', '❓ Une question ?']]), tree.dirs);
        edit(d, 'menu.ask', '❓ Pose ta question');
      },
      reasons: [/conflict: edited both in this file and in the repository/],
    },
  ];

  it.each(refusals)('refuses $name with the line of its msgctxt, and writes nothing', async ({ lang, id, change, reasons }) => {
    const tree = copyTree();
    const data = await exported(tree, lang);
    edit(data, 'menu.help', `${entry(data, 'menu.help').msgstr[0]} 🙂`); // a good change in the same file is not written either
    change(data, tree);
    const { path, text } = save(tree, data);
    const line = lineOf(text, id);
    expect(line).toBeGreaterThan(0);
    const before = snapshot(tree.root);
    const run = await cli(tree, 'import', lang, path, '--reviewer', 'Amina');
    expect(run.code).toBe(1);
    for (const reason of reasons) expect(run.err).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: ${reason.source}`, 'm'));
    expect(snapshot(tree.root)).toEqual(before);
  });

  it('refuses a file made for another language', async () => {
    const tree = copyTree();
    const { path, text } = save(tree, await exported(tree, 'es'));
    const run = await cli(tree, 'import', 'fr', path);
    expect(run.code).toBe(1);
    const line = text.split('\n').indexOf('"Language: es\\n"') + 1;
    expect(line).toBeGreaterThan(1);
    expect(run.err).toContain(`reviewed.po:${line}: the file is for "es", not "fr"`);
  });

  it('says where a file that is not PO breaks', async () => {
    const tree = copyTree();
    const path = join(tree.root, 'broken.po');
    writeFileSync(path, 'msgid ""\nmsgstr ""\n\nmsgctxt "menu.ask"\nmsgid "Fai una domanda\nmsgstr ""\n');
    const run = await cli(tree, 'import', 'fr', path);
    expect(run.code).toBe(1);
    // the parser counts the line break that ends the open string, so it may name the next line
    expect(run.err).toMatch(/broken\.po:[56]: not a readable PO file: .*End-of-line within string/);
  });

  it('refuses an entry that appears twice, at its second msgctxt', async () => {
    const tree = copyTree();
    const path = join(tree.root, 'twice.po');
    const ask = 'msgctxt "menu.ask"\nmsgid "❓ Fai una domanda"\nmsgstr "❓ Pose ta question"\n';
    writeFileSync(path, `msgid ""\nmsgstr ""\n"Language: fr\\n"\n\n${ask}\n${ask}`);
    const run = await cli(tree, 'import', 'fr', path);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/twice\.po:9: not a readable PO file: Duplicate msgid/);
  });

  it('as a command: exits 1 and names the file and line of a broken placeholder', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    edit(data, 'profile.childSaved', entry(data, 'profile.childSaved').msgstr[0]!.replace('{{date}}', '{{dat}}'));
    const { path, text } = save(tree, data);
    const before = snapshot(tree.root);
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    const run = spawnSync(
      'npx',
      ['tsx', 'functions/cli/i18n.ts', 'import', 'fr', path, '--reviewer', 'Amina', '--locales', tree.dirs.locales, '--knowledge', tree.dirs.knowledge],
      { cwd: process.cwd(), env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`).toContain(`${path}:${lineOf(text, 'profile.childSaved')}: placeholder {{date}} missing`);
    expect(snapshot(tree.root)).toEqual(before);
  }, 90_000);
});

describe('review state after an import', () => {
  it('turns a reviewed text back into a draft when someone edits it later', async () => {
    const tree = copyTree();
    const data = await exported(tree, 'fr');
    edit(data, 'menu.ask', '❓ Pose ta question');
    await cli(tree, 'import', 'fr', save(tree, data).path, '--reviewer', 'Amina');
    const ask = () => readCatalog('fr', tree.dirs).find((t) => t.id === 'menu.ask')!;
    expect(reviewState(ask(), readReview('fr', tree.dirs))).toBe('reviewed');
    writeCatalog('fr', new Map([['menu.ask', '❓ Pose ta question ici']]), tree.dirs);
    expect(reviewState(ask(), readReview('fr', tree.dirs))).toBe('changed');
    expect(entry(await exported(tree, 'fr'), 'menu.ask').comments!.flag).toBe('fuzzy');
  });
});
