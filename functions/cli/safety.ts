import { isLanguage, LANGUAGES } from '../../bot/i18n';
import { dangerMatcher } from '../../bot/safety/matcher';

/**
 * `npm run safety -- <lang> "<message>"`: for a reviewer editing locales/safety/<lang>.json, what the danger
 * matcher hears in one message: the level, the concepts and the language, then for each lexicon that listened
 * which of its groups took which words and which signals fired. Reads the lexicons only; nothing is stored.
 */
const USAGE = `usage: npm run safety -- <${LANGUAGES.join('|')}> "<message>"`;
const [lng, ...words] = process.argv.slice(2);
const text = words.join(' ').trim();
if (!isLanguage(lng) || !text) {
  console.error(USAGE);
  process.exitCode = 2;
} else {
  try {
    const matcher = dangerMatcher();
    console.log(JSON.stringify({ heard: matcher.assess(text, [lng]), lexicons: matcher.explain(text, [lng]) }, null, 2));
  } catch (err) {
    // a lexicon that does not parse: its file and key, as the server would say at start
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
