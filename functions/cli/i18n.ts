import { LANGUAGES, isLanguage } from '../../bot/i18n';
import { catalogMap, readCatalog } from '../../bot/locales/catalog';
import { glossaryMisses, loadGlossary, OWN_SCRIPT_LANGUAGES, strayLatinWords } from '../../bot/locales/glossary';

/**
 * `npm run i18n -- <command>`: the translators' workflow.
 *   check [lang…]           glossary words and script, one line per problem
 */
const USAGE = 'usage: npm run i18n -- check [lang…]';

function check(langs: string[]): number {
  const glossary = loadGlossary(LANGUAGES);
  const italian = catalogMap(readCatalog('it'));
  let problems = 0;
  for (const lang of langs.length ? langs : LANGUAGES.filter((l) => l !== 'it')) {
    const texts = readCatalog(lang);
    for (const m of glossaryMisses(lang, texts, italian, glossary)) {
      console.log(`${lang}\t${m.id}\tglossary: "${m.term}" needs "${m.expected}"`);
      problems++;
    }
    if ((OWN_SCRIPT_LANGUAGES as readonly string[]).includes(lang)) {
      for (const t of texts) {
        if (t.role === 'search') continue;
        const stray = strayLatinWords(lang, t.text, glossary);
        if (stray.length) {
          console.log(`${lang}\t${t.id}\tscript: Latin words ${stray.join(', ')}`);
          problems++;
        }
      }
    }
  }
  console.error(`${problems} problem(s)`);
  return problems;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'check') {
  const bad = rest.filter((l) => !isLanguage(l));
  if (bad.length) {
    console.error(`unknown language ${bad.join(', ')}\n${USAGE}`);
    process.exitCode = 2;
  } else process.exitCode = check(rest) ? 1 : 0;
} else {
  console.error(USAGE);
  process.exitCode = 2;
}
