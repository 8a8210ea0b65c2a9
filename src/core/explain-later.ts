import type { Problem } from '../lib/validate';
import { loadPart } from './loader';
import type { word } from './errors';

// The words belong to the page, like the loader's parts: fetched once, for every instance.
let words: typeof word | undefined;
let part: Promise<typeof word> | undefined;

/**
 * The message of a refusal, for the script tag, whose words (`microconv-errors.js`) come through the
 * loader on its first error: until then, a short message that names what was refused and stands on its
 * own if the words never come (a blocked file), and `later` gets the full one once they are here; from
 * then on, the full message at once. (The npm builds bundle the words: explain.ts.)
 */
export function explain(problem: Problem | string, later: (message: string) => void): string {
  if (typeof problem === 'string') return problem;
  if (words) return words(problem);
  // In order: the reactions to one promise run in the order they were added, one right after the other,
  // so the messages owed all come before any full message said at once. A console that throws costs
  // that one message.
  (part ||= loadPart('errors')).then((word) => later((words = word)(problem))).catch(() => {});
  return problem[0] + ' cannot be used; the details follow in the console';
}
