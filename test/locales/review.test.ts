import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../bot/i18n';
import { catalogMap, DEFAULT_DIRS, readCatalog, writeCatalog, type CatalogDirs, type CatalogText } from '../../bot/locales/catalog';
import {
  formatStatus,
  glossaryFor,
  languageStatus,
  markReviewed,
  readReview,
  reviewDir,
  reviewState,
  textHash,
  writeReview,
  type ReviewFile,
} from '../../bot/locales/review';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A copy of locales/ and supabase/knowledge/: tests never write the real ones. */
function copyDirs(): CatalogDirs {
  const root = mkdtempSync(join(tmpdir(), 'i18n-review-'));
  roots.push(root);
  const dirs = { locales: join(root, 'locales'), knowledge: join(root, 'knowledge') };
  cpSync(DEFAULT_DIRS.locales, dirs.locales, { recursive: true });
  cpSync(DEFAULT_DIRS.knowledge, dirs.knowledge, { recursive: true });
  return dirs;
}

const text = (id: string, t: string): CatalogText => ({ id, text: t, role: 'ui' });

describe('the hash of a text', () => {
  it('is the first 12 hex of its sha256', () => {
    expect(textHash('')).toBe('e3b0c44298fc');
    expect(textHash('❓ Pose ta question')).toBe(createHash('sha256').update('❓ Pose ta question').digest('hex').slice(0, 12));
  });
});

describe('review state', () => {
  const review: ReviewFile = { 'menu.ask': { state: 'reviewed', by: 'Amina', at: '2027-03-15', hash: textHash('❓ Pose ta question') } };

  it.each([
    { name: 'a text nobody reviewed', t: text('menu.help', '🆘 Aide'), state: 'draft' },
    { name: 'a text reviewed as it is', t: text('menu.ask', '❓ Pose ta question'), state: 'reviewed' },
    { name: 'a reviewed text edited since', t: text('menu.ask', '❓ Pose ta question ici'), state: 'changed' },
  ] as const)('$name is $state', ({ t, state }) => {
    expect(reviewState(t, review)).toBe(state);
  });

  it('records a new review, keeps a review that still holds, and re-reviews an edited text', () => {
    const file: ReviewFile = {
      'menu.ask': { state: 'reviewed', by: 'Amina', at: '2027-03-15', hash: textHash('❓ Pose ta question') },
      'menu.nido': { state: 'reviewed', by: 'Amina', at: '2027-03-15', hash: textHash('an older text') },
    };
    const marked = markReviewed(file, [text('menu.ask', '❓ Pose ta question'), text('menu.nido', '🏫 Crèche (nido)'), text('menu.help', '🆘 Aide')], 'Li', '2027-04-02');
    expect(marked).toEqual(['menu.nido', 'menu.help']);
    expect(file['menu.ask']).toMatchObject({ by: 'Amina', at: '2027-03-15' });
    expect(file['menu.nido']).toEqual({ state: 'reviewed', by: 'Li', at: '2027-04-02', hash: textHash('🏫 Crèche (nido)') });
  });

  it('makes a reviewed text a draft again when anyone edits its file', () => {
    const dirs = copyDirs();
    const ask = () => readCatalog('fr', dirs).find((t) => t.id === 'menu.ask')!;
    const review = readReview('fr', dirs);
    markReviewed(review, [ask()], 'Amina', '2027-03-15');
    writeReview('fr', review, readCatalog('fr', dirs), dirs);
    expect(reviewState(ask(), readReview('fr', dirs))).toBe('reviewed');
    writeCatalog('fr', new Map([['menu.ask', `${ask().text}!`]]), dirs);
    expect(reviewState(ask(), readReview('fr', dirs))).toBe('changed');
  });

  it('writes records in catalog order, drops those of texts that are gone, and reads a language nobody reviewed as empty', () => {
    const dirs = copyDirs();
    rmSync(reviewDir(dirs), { recursive: true, force: true });
    expect(readReview('fr', dirs)).toEqual({});
    const fr = readCatalog('fr', dirs);
    const review: ReviewFile = {};
    markReviewed(review, [fr[5]!, text('menu.gone', 'Gone'), fr[1]!, fr[3]!], 'Amina', '2027-03-15');
    writeReview('fr', review, fr, dirs);
    expect(Object.keys(JSON.parse(readFileSync(join(reviewDir(dirs), 'fr.json'), 'utf8')) as ReviewFile)).toEqual([fr[1]!.id, fr[3]!.id, fr[5]!.id]);
  });
});

describe('status', () => {
  it('counts reviewed, draft and changed texts, names the last review and counts glossary problems', () => {
    const dirs = copyDirs();
    const glossary = glossaryFor(dirs);
    const italian = catalogMap(readCatalog('it', dirs));
    const fr = readCatalog('fr', dirs);
    const clean = languageStatus('fr', fr, {}, italian, glossary);
    const review: ReviewFile = {};
    markReviewed(review, [fr[0]!, fr[1]!], 'Amina', '2027-03-15');
    markReviewed(review, [fr[2]!], 'Li', '2027-04-02');
    markReviewed(review, [{ ...fr[3]!, text: 'an older text' }], 'Li', '2027-01-01');
    const bad = fr.map((t) => (t.id === 'menu.nido' ? { ...t, text: '🏫 Garderie' } : t));
    expect(languageStatus('fr', bad, review, italian, glossary)).toEqual({
      lang: 'fr',
      texts: fr.length,
      reviewed: 3,
      draft: fr.length - 4,
      changed: 1,
      last: { by: 'Li', at: '2027-04-02' },
      problems: clean.problems + 1,
    });
  });

  it('lines the table up in columns', () => {
    const table = formatStatus([
      { lang: 'fr', texts: 1016, reviewed: 3, draft: 1012, changed: 1, last: { by: 'Amina', at: '2027-03-15' }, problems: 0 },
      { lang: 'zh', texts: 970, reviewed: 0, draft: 970, changed: 0, problems: 2 },
    ]).split('\n');
    expect(table).toEqual([
      'lang  texts  reviewed  draft  changed since review  last review        problems',
      'fr    1016   3         1012   1                     Amina, 2027-03-15  0',
      'zh    970    0         970    0                     -                  2',
    ]);
  });
});

describe('the review files in the repository', () => {
  it.each([...LANGUAGES])('%s: exists and holds well-formed records', (lang) => {
    expect(existsSync(join(reviewDir(DEFAULT_DIRS), `${lang}.json`))).toBe(true);
    for (const r of Object.values(readReview(lang))) {
      expect(r.state).toBe('reviewed');
      expect(r.by.trim()).not.toBe('');
      expect(r.at).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(r.hash).toMatch(/^[0-9a-f]{12}$/);
    }
  });
});
