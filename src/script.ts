/** The entry of `dist/microconv.js`, the script-tag build. */
import { bootScriptTag } from './core/bootstrap';

try {
  bootScriptTag();
} catch (error) {
  console.error('[microconv] ' + String(error));
}
