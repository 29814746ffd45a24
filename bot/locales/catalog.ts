import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALES_DIR } from '../i18n';
import { SUPABASE_DIR } from '../db/migrate';

/**
 * Every text a language has, in one flat list: the interface strings (locales/<lang>.json, dotted keys such as
 * `menu.nido` or `calls.noticeClose_one`) and the knowledge base (supabase/knowledge/<lang>.json, ids such as
 * `knowledge:nido-what.answer`). The glossary and script checks, the PO export and import, and the review state
 * all speak these ids.
 */
export interface CatalogText {
  id: string;
  text: string;
  /** what a person reads (`ui`, `answer`), or what the search matches her words against (`search`) */
  role: 'ui' | 'answer' | 'search';
}

export interface CatalogDirs {
  locales: string;
  knowledge: string;
}

export const DEFAULT_DIRS: CatalogDirs = { locales: LOCALES_DIR, knowledge: join(SUPABASE_DIR, 'knowledge') };

export const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;
export const KNOWLEDGE_PREFIX = 'knowledge:';

interface KnowledgeText {
  question: string;
  phrasings: string[];
  keywords: string;
  answer: string;
}

function flatten(obj: Record<string, unknown>, prefix: string, out: CatalogText[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const id = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') flatten(v as Record<string, unknown>, id, out);
    // keywords.* are lists of her words the bot matches, not texts she reads
    else out.push({ id, text: String(v), role: id.startsWith('keywords.') ? 'search' : 'ui' });
  }
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** All texts of one language, interface first, then the knowledge base in its file's order. */
export function readCatalog(lang: string, dirs: CatalogDirs = DEFAULT_DIRS): CatalogText[] {
  const out: CatalogText[] = [];
  flatten(readJson(join(dirs.locales, `${lang}.json`)), '', out);
  const kb = readJson<Record<string, KnowledgeText>>(join(dirs.knowledge, `${lang}.json`));
  for (const [slug, e] of Object.entries(kb)) {
    const at = `${KNOWLEDGE_PREFIX}${slug}`;
    out.push({ id: `${at}.question`, text: e.question, role: 'answer' });
    out.push({ id: `${at}.answer`, text: e.answer, role: 'answer' });
    e.phrasings.forEach((p, i) => out.push({ id: `${at}.phrasings.${i}`, text: p, role: 'search' }));
    out.push({ id: `${at}.keywords`, text: e.keywords, role: 'search' });
  }
  return out;
}

export const catalogMap = (texts: CatalogText[]): Map<string, CatalogText> => new Map(texts.map((t) => [t.id, t]));

/** The Italian text that a key of another language translates: the same key, or for a plural form the Italian `_other`. */
export function italianFor(id: string, italian: Map<string, CatalogText>): CatalogText | undefined {
  const same = italian.get(id);
  if (same) return same;
  const m = PLURAL_SUFFIX.exec(id);
  if (!m) return undefined;
  const base = id.slice(0, -m[0].length);
  return italian.get(`${base}_other`) ?? italian.get(`${base}_one`);
}

function setDotted(obj: Record<string, unknown>, id: string, text: string): boolean {
  const parts = id.split('.');
  let at: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (!next || typeof next !== 'object') return false;
    at = next as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (typeof at[last] !== 'string') return false;
  at[last] = text;
  return true;
}

/**
 * Writes changed texts back into the language's two files, keeping key order and 2-space JSON; ids that the
 * files do not hold are returned, not added (a new key is a code change, not a translation).
 */
export function writeCatalog(lang: string, changes: Map<string, string>, dirs: CatalogDirs = DEFAULT_DIRS): string[] {
  const unknown: string[] = [];
  const localesPath = join(dirs.locales, `${lang}.json`);
  const kbPath = join(dirs.knowledge, `${lang}.json`);
  const ui = readJson<Record<string, unknown>>(localesPath);
  const kb = readJson<Record<string, KnowledgeText>>(kbPath);
  let uiChanged = false;
  let kbChanged = false;
  for (const [id, text] of changes) {
    if (id.startsWith(KNOWLEDGE_PREFIX)) {
      const m = /^knowledge:([^.]+)\.(question|answer|keywords|phrasings\.(\d+))$/.exec(id);
      const entry = m ? kb[m[1]!] : undefined;
      if (!m || !entry) unknown.push(id);
      else if (m[3] !== undefined) {
        if (Number(m[3]) >= entry.phrasings.length) unknown.push(id);
        else entry.phrasings[Number(m[3])] = text;
      } else entry[m[2] as 'question' | 'answer' | 'keywords'] = text;
      if (m && entry) kbChanged = true;
    } else if (setDotted(ui, id, text)) uiChanged = true;
    else unknown.push(id);
  }
  if (uiChanged) writeFileSync(localesPath, `${JSON.stringify(ui, null, 2)}\n`);
  if (kbChanged) writeFileSync(kbPath, `${JSON.stringify(kb, null, 2)}\n`);
  return unknown;
}
