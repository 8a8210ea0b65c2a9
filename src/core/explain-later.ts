import type { Problem } from '../lib/validate';
import { loadPart } from './loader';
import type { word } from './errors';

// The words belong to the page, like the loader's parts: fetched once, for every instance.
let words: typeof word | undefined;
let loading: Promise<unknown> | undefined;
// The full messages owed, one after the other: in the order their refusals were met.
let owed: Promise<unknown> = Promise.resolve();

/**
 * The message of a refusal, for the script tag, whose words (`microconv-errors.js`) come through the
 * loader on its first error: until then, a short message that names what was refused and stands on its
 * own if the words never come (a blocked file), and `later` gets the full one once they are here. From
 * then on, the full message at once. (The npm builds bundle the words: explain.ts.)
 */
export function explain(problem: Problem | string, later: (message: string) => void): string {
  if (typeof problem === 'string') return problem;
  if (words) return words(problem);
  loading ||= loadPart<{ word: typeof word }>('errors').then((part) => (words = part.word));
  // A console that throws, or words that never come, cost that one message, never the ones after it.
  owed = owed.then(() => loading).then(() => later(words!(problem))).catch(() => {});
  return problem[0] + ' was refused; the details follow in the console';
}
