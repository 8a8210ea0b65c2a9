import type { Problem } from '../lib/validate';
import { word } from './errors';

/**
 * The message of a refusal, for the npm builds, which bundle the words: the full one, at once. (The
 * script tag's build puts explain-later.ts in this module's place.) `later` is for the full message when
 * it cannot be had at once; here it always can.
 */
export const explain = (problem: Problem | string, _later?: (message: string) => void): string => (typeof problem === 'string' ? problem : word(problem));
