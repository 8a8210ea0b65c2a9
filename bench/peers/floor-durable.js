// The durable floor: the floor (floor.js) plus the least that the contract's delivery asks
// (docs/contract.md, section 4), written by hand: each event gets an id and is in IndexedDB by the end
// of the task that tracked it (one write per task, as a crashed tab must lose nothing), leaves in
// batches of 10 or after 5 s by `fetch` with keepalive, is deleted once a 2xx says it was stored, and
// what the page has not sent goes by beacon when it is hidden; what an earlier page left is sent at
// start. No validation, consent, retries, backoff, claims between tabs, bounds or redaction: so no
// tracker that keeps the contract's "unsent events survive a crashed tab" can cost less on this
// journey. It tracks as the floor does (floor-listeners.js).
import { listen } from './floor-listeners.js';

const BATCH = 10;
const queue = [];
const unsent = [];
let timer = 0;
let db;
const waiting = [];
const store = (mode, use) => {
  const run = () => use(db.transaction('events', mode).objectStore('events'));
  db ? run() : waiting.push(run);
};
// Opened once the page is idle after load, as microconv starts: not in the load's way.
const start = () => {
  const open = indexedDB.open('floor-durable', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('events', { keyPath: 'id' });
  open.onsuccess = () => {
    db = open.result;
    // What an earlier page left, read before this page's first writes.
    store('readonly', (events) => (events.getAll().onsuccess = (result) => result.target.result.length && send(result.target.result)));
    waiting.splice(0).forEach((run) => run());
  };
};
const idle = () => requestIdleCallback(start);
document.readyState === 'complete' ? idle() : addEventListener('load', idle);
const send = (batch) =>
  fetch('/collect', { method: 'POST', body: JSON.stringify(batch), keepalive: true }).then(
    (response) => response.ok && store('readwrite', (events) => batch.forEach((event) => events.delete(event.id))),
    () => {},
  );
const flush = () => {
  clearTimeout(timer);
  timer = 0;
  if (unsent.length) send(unsent.splice(0));
};
const add = (name, value) => {
  const event = { id: crypto.randomUUID(), name, value, ts: Date.now() };
  // One write per task: the events a task tracks are written together once it ends.
  if (!queue.length) queueMicrotask(() => {
    const written = queue.splice(0);
    store('readwrite', (events) => written.forEach((stored) => events.put(stored)));
  });
  queue.push(event);
  unsent.push(event);
  if (unsent.length >= BATCH) flush();
  else timer ||= setTimeout(flush, 5000);
};
const hide = () => {
  clearTimeout(timer);
  timer = 0;
  if (unsent.length) navigator.sendBeacon('/collect', JSON.stringify(unsent.splice(0)));
};
listen(add, hide);
