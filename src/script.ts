/**
 * The entry of `dist/microconv.js`, the script-tag build: the core with every built-in part registered.
 * The parts with `load` stay out of this file: the build makes each a file of its own, which the core
 * fetches from next to this one when a page needs it (see parts.ts).
 */
import type { Part } from './types';
import { bootScriptTag } from './core/bootstrap';
import * as builtIns from './parts';

try {
  bootScriptTag(Object.values(builtIns) as Part[]);
} catch (error) {
  console.error('[microconv] ' + String(error));
}
