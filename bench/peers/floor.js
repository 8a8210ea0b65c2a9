// The floor: the least any tracker can do for the bench's journey, written by hand. The listeners of
// floor-listeners.js, and one beacon when the page is hidden. No validation, no consent, no storage, no
// retries: nothing a product can do without, so no product can cost less.
import { listen } from './floor-listeners.js';

const queue = [];
listen(
  (name, value) => queue.push([name, value, Date.now()]),
  () => queue.length && navigator.sendBeacon('/collect', JSON.stringify(queue.splice(0))),
);
