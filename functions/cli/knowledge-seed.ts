import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SUPABASE_DIR } from '../../bot/db/migrate';
import { knowledgeSeedSql, type KnowledgeSource } from '../../bot/features/needs/knowledge-import';

export const KNOWLEDGE_DIR = join(SUPABASE_DIR, 'knowledge');
export const KNOWLEDGE_SEED = join(SUPABASE_DIR, 'seeds', 'knowledge.sql');

/** supabase/knowledge/entries.json and <language>.json, as one source. */
export async function readKnowledgeSource(dir = KNOWLEDGE_DIR): Promise<KnowledgeSource> {
  const entries = JSON.parse(await readFile(join(dir, 'entries.json'), 'utf8')) as KnowledgeSource['entries'];
  const texts: KnowledgeSource['texts'] = {};
  for (const f of (await readdir(dir)).filter((n) => /^[a-z]{2}\.json$/.test(n))) {
    texts[f.slice(0, 2)] = JSON.parse(await readFile(join(dir, f), 'utf8')) as KnowledgeSource['texts'][string];
  }
  return { entries, texts };
}

/** Regenerates the seed from the JSON in `dir`; returns its size in bytes. */
export async function writeKnowledgeSeed(dir = KNOWLEDGE_DIR, seed = KNOWLEDGE_SEED): Promise<number> {
  const sql = knowledgeSeedSql(await readKnowledgeSource(dir));
  await writeFile(seed, sql);
  return sql.length;
}

// `npm run seed:knowledge`: regenerates supabase/seeds/knowledge.sql after the JSON changed
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`wrote ${KNOWLEDGE_SEED} (${await writeKnowledgeSeed()} bytes)`);
}
