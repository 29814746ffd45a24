import { po, type PoData, type PoMessage } from 'gettext-parser';
import { format } from 'date-fns';
import { inRome } from '../time';
import { italianFor, KNOWLEDGE_PREFIX, PLURAL_SUFFIX, type CatalogText } from './catalog';
import { termsIn, type Glossary } from './glossary';
import { reviewState, textHash, textProblems, type ReviewFile } from './review';

/**
 * Gettext PO files for native reviewers (Poedit, Weblate): one entry per text of a language, msgctxt = the text's
 * id, msgid = the Italian, msgstr = the language's text, fuzzy while the text is a draft.
 */


/** What an export needs about one language: its texts, the Italian and English ones, the glossary, the review. */
export interface PoSources {
  lang: string;
  texts: CatalogText[];
  italian: Map<string, CatalogText>;
  english: Map<string, CatalogText>;
  glossary: Glossary;
  review: ReviewFile;
  /** when the file is made (from the injected clock), for the POT-Creation-Date header */
  exportedAt: Date;
}

const HEADER_COMMENT = [
  'Family bot: the texts of one language, for native review.',
  'msgid is the Italian (the source language); msgstr is the text in this language.',
  'msgctxt is the text\'s id: never change it.',
  'Plural forms are separate entries, one per i18next key (_zero, _one, _two, _few, _many, _other),',
  'so this file has no Plural-Forms header and no msgid_plural.',
  'Keep every {{placeholder}} as it is. Clear the fuzzy flag ("needs work") when a text is right.',
  'Leave the "text version" notes: they tell the import which text you saw, so it never undoes a later edit.',
].join('\n');

const SEARCH_NOTE = 'search words: what she might type, not read by her';
const VERSION_NOTE = 'text version: ';
const VERSION_LINE = /^text version: ([0-9a-f]{12})$/m;

/** Where a text lives in the repository, for the `#:` reference line. */
export const referenceFor = (lang: string, id: string): string =>
  id.startsWith(KNOWLEDGE_PREFIX) ? `supabase/knowledge/${lang}.json` : `locales/${lang}.json`;

function extractedComments(src: PoSources, text: CatalogText, italian: string): string {
  const lines: string[] = [];
  const english = src.lang === 'en' ? undefined : italianFor(text.id, src.english);
  if (english) lines.push(`en: ${english.text}`);
  if (text.role === 'search') lines.push(SEARCH_NOTE);
  for (const key of termsIn(italian, src.glossary)) {
    const source = src.glossary.source[key]!;
    const term = src.glossary.byLanguage[src.lang]?.[key];
    lines.push(`glossary: ${source.it} → ${term?.term ?? '(not in the glossary yet)'} (${source.definition})`);
  }
  lines.push(`${VERSION_NOTE}${textHash(text.text)}`);
  return lines.join('\n');
}

/** The PO file of one language, entries in catalog order. Italian is the source: it has no PO file. */
export function exportPo(src: PoSources): Buffer {
  if (src.lang === 'it') throw new Error('it is the source language: its texts are the msgid of every other file, there is nothing to export');
  const entries: Record<string, Record<string, PoMessage>> = {
    '': { '': { msgid: '', msgstr: [''], comments: { translator: HEADER_COMMENT } } },
  };
  for (const text of src.texts) {
    const italian = italianFor(text.id, src.italian)?.text ?? `(${text.id}: no Italian text)`;
    entries[text.id] = {
      [italian]: {
        msgctxt: text.id,
        msgid: italian,
        msgstr: [text.text],
        comments: {
          extracted: extractedComments(src, text, italian),
          reference: referenceFor(src.lang, text.id),
          ...(reviewState(text, src.review) === 'reviewed' ? {} : { flag: 'fuzzy' }),
        },
      },
    };
  }
  const headers = {
    'Project-Id-Version': 'family-bot',
    Language: src.lang,
    'POT-Creation-Date': format(inRome(src.exportedAt), 'yyyy-MM-dd HH:mmxx'),
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Transfer-Encoding': '8bit',
    'X-Source-Language': 'it',
  };
  return po.compile({ charset: 'utf-8', headers, translations: entries });
}

export interface PoProblem {
  /** 1-based line in the PO file: the entry's msgctxt line */
  line: number;
  reason: string;
}

export interface PoEntry {
  id: string;
  msgid: string;
  msgstr: string;
  /** still flagged fuzzy: the reviewer did not clear it */
  fuzzy: boolean;
  /** hash of the text as exported (its "text version" note), when the file kept it */
  version?: string;
  line: number;
}

export interface PoFile {
  language?: string;
  /** the line of the Language header, where a file made for another language is refused */
  languageLine: number;
  entries: PoEntry[];
  /** what makes entries unusable as they are in the file (duplicates, no msgctxt, gettext plurals) */
  problems: PoProblem[];
}

/** A PO file that gettext-parser cannot read, with the line it stopped at. */
export class PoSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const unescapePo = (s: string): string =>
  s.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' })[c] ?? c);

interface Keyword {
  keyword: string;
  value: string;
  line: number;
}

/** The file's keyword lines (msgctxt, msgid, msgstr…) with their joined strings and where each starts; obsolete `#~` lines aside. */
function scanKeywords(text: string): Keyword[] {
  const out: Keyword[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const start = /^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"\s*$/.exec(line);
    if (start) out.push({ keyword: start[1]!, value: unescapePo(start[2]!), line: i + 1 });
    const more = /^"(.*)"\s*$/.exec(line);
    if (more && out.length) out.at(-1)!.value += unescapePo(more[1]!);
  });
  return out;
}

/** Where each id's msgctxt is, every time it appears, and the lines of msgid entries that have none. */
function locate(text: string): { ids: Map<string, number[]>; noContext: Map<string, number> } {
  const ids = new Map<string, number[]>();
  const noContext = new Map<string, number>();
  const keywords = scanKeywords(text);
  keywords.forEach((k, i) => {
    if (k.keyword === 'msgctxt') ids.set(k.value, [...(ids.get(k.value) ?? []), k.line]);
    else if (k.keyword === 'msgid' && keywords[i - 1]?.keyword !== 'msgctxt' && k.value !== '') noContext.set(k.value, k.line);
  });
  return { ids, noContext };
}

/** The entry an error names ('… in "menu.ask" context'): its last msgctxt line, the duplicate when there are two. */
function lineOfContext(err: Error, ids: Map<string, number[]>): number {
  const context = /in "((?:[^"\\]|\\.)*)" context/.exec(err.message)?.[1];
  return (context !== undefined ? ids.get(context)?.at(-1) : undefined) ?? 1;
}

const isFuzzy = (m: PoMessage): boolean => (m.comments?.flag ?? '').split(/[\s,]+/).includes('fuzzy');

/** Reads a PO file into its entries, each with the line of its msgctxt. Throws PoSyntaxError when it is not a PO file. */
export function readPo(input: Buffer | string): PoFile {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const { ids, noContext } = locate(text);
  let data: PoData;
  try {
    // validation: a string left open, an entry without msgstr or the same entry twice is an error, not a guess
    data = po.parse(typeof input === 'string' ? Buffer.from(input) : input, { validation: true });
  } catch (err) {
    throw new PoSyntaxError((err as Error).message, (err as { lineNumber?: number }).lineNumber ?? lineOfContext(err as Error, ids));
  }
  const entries: PoEntry[] = [];
  const problems: PoProblem[] = [];
  for (const [msgctxt, messages] of Object.entries(data.translations)) {
    for (const m of Object.values(messages)) {
      if (msgctxt === '') {
        if (m.msgid !== '') problems.push({ line: noContext.get(m.msgid) ?? 1, reason: 'entry without msgctxt (the text\'s id): it cannot be matched to a text' });
        continue;
      }
      const line = ids.get(msgctxt)?.[0] ?? 1;
      if (m.msgid_plural !== undefined) {
        problems.push({ line, reason: 'msgid_plural: each plural form is its own entry here, with its own msgctxt' });
        continue;
      }
      const version = VERSION_LINE.exec(m.comments?.extracted ?? '')?.[1];
      entries.push({ id: msgctxt, msgid: m.msgid, msgstr: m.msgstr[0] ?? '', fuzzy: isFuzzy(m), line, ...(version ? { version } : {}) });
    }
  }
  for (const [id, lines] of ids) {
    for (const line of lines.slice(1)) problems.push({ line, reason: `${id} appears twice (first at line ${lines[0]})` });
  }
  const languageLine = text.split(/\r?\n/).findIndex((l) => /^"Language:/.test(l)) + 1 || 1;
  return { language: data.headers?.Language, languageLine, entries, problems };
}

const PLACEHOLDER = /\{\{\s*([^{}]+?)\s*\}\}|\$t\((?:[^()]|\([^()]*\))*\)/g;

/** The placeholders of a text: `{{name}}` (spaces inside ignored) and nested `$t(…)` keys. */
export function placeholdersIn(text: string): Set<string> {
  return new Set([...text.matchAll(PLACEHOLDER)].map((m) => (m[1] !== undefined ? `{{${m[1]}}}` : m[0])));
}

/**
 * Placeholders must be the ones the text has now: i18next fills only those. A plural form may add {{count}}
 * (i18next always passes it) but must not lose it.
 */
function placeholderProblems(id: string, before: string, after: string): string[] {
  const expected = placeholdersIn(before);
  const got = placeholdersIn(after);
  const plural = PLURAL_SUFFIX.test(id);
  const problems: string[] = [];
  for (const p of expected) {
    if (got.has(p)) continue;
    problems.push(plural && p === '{{count}}' ? 'plural: this form must keep {{count}}' : `placeholder ${p} missing`);
  }
  for (const p of got) if (!expected.has(p) && !(plural && p === '{{count}}')) problems.push(`unknown placeholder ${p}`);
  return problems;
}

export interface ImportPlan {
  /** any problem refuses the whole file */
  problems: PoProblem[];
  /** worth telling, not refusing */
  notes: PoProblem[];
  changes: Map<string, string>;
  unchanged: number;
  untranslated: number;
  /** texts as they will read after the import, that passed every check and that the reviewer cleared of fuzzy */
  cleared: CatalogText[];
}

/** What an import would change, and everything that stops it; writes nothing. */
export function planImport(
  file: PoFile,
  src: { lang: string; texts: CatalogText[]; italian: Map<string, CatalogText>; glossary: Glossary },
): ImportPlan {
  const plan: ImportPlan = { problems: [...file.problems], notes: [], changes: new Map(), unchanged: 0, untranslated: 0, cleared: [] };
  if (file.language && file.language !== src.lang) {
    plan.problems.push({ line: file.languageLine, reason: `the file is for "${file.language}", not "${src.lang}"` });
  }
  const current = new Map(src.texts.map((t) => [t.id, t]));
  for (const entry of file.entries) {
    const now = current.get(entry.id);
    if (!now) {
      plan.problems.push({ line: entry.line, reason: `unknown id ${entry.id}: no such text in ${src.lang}` });
      continue;
    }
    if (entry.msgstr === '') {
      plan.untranslated++;
      continue;
    }
    // someone edited the text after the export: the file must not undo that edit
    if (entry.version && entry.version !== textHash(now.text) && entry.msgstr !== now.text) {
      if (textHash(entry.msgstr) === entry.version) {
        plan.unchanged++;
        plan.notes.push({ line: entry.line, reason: 'edited in the repository since the export: kept the newer text, not marked reviewed' });
      } else {
        plan.problems.push({ line: entry.line, reason: `conflict: edited both in this file and in the repository since the export (now "${now.text}"): export again, or remove this entry` });
      }
      continue;
    }
    const italian = italianFor(entry.id, src.italian);
    const after: CatalogText = { ...now, text: entry.msgstr };
    const reasons = [
      ...placeholderProblems(entry.id, now.text || italian?.text || '', entry.msgstr),
      ...textProblems(src.lang, [after], src.italian, src.glossary).map((p) => p.reason),
    ];
    for (const reason of reasons) plan.problems.push({ line: entry.line, reason });
    if (reasons.length) continue;
    if (entry.msgstr === now.text) plan.unchanged++;
    else plan.changes.set(entry.id, entry.msgstr);
    const stale = italian !== undefined && entry.msgid !== italian.text;
    // a reviewer who approved it against an older Italian has not read the current one
    if (stale) plan.notes.push({ line: entry.line, reason: 'the Italian changed since this file was exported: not marked reviewed' });
    else if (!entry.fuzzy) plan.cleared.push(after);
  }
  plan.problems.sort((a, b) => a.line - b.line);
  return plan;
}
