// `npm run bench`: main-thread script time of a landing page, with microconv and without, in a real
// Chromium, read through the DevTools protocol. Three phases per run:
//   load     navigation to the load event: microconv's own script in it, attributed by URL from a
//            performance trace (its EvaluateScript and FunctionCall events), so nothing of the page or
//            the harness is counted;
//   settle   load event to the main thread's second idle period (requestIdleCallback): where microconv
//            does what it deferred (trackers, the IndexedDB queue); ScriptDuration, page and all;
//   journey  the scripted visit: 50 wheel steps down the page, 10 CTA clicks, the form filled and
//            submitted, 5 s of video; ScriptDuration (Performance.getMetrics), page and all.
// Prints medians of every run, the journey's ratio with/without and its four phases, and fails over
// budget. `--off cta,video` runs the 'with' page with those trackers off: what each one costs;
// `--no-adapters` with no destination (events are built, never queued, stored or sent).
//   node bench/run.mjs [--runs 7] [--off cta,sections,scroll,forms,video,spa] [--no-adapters]
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { LAUNCH_ARGS, findChromium } from '../scripts/chromium.mjs';
import { landingPage } from './landing.mjs';

const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const RUNS = Number(arg('--runs')) || 7;
const OFF = arg('--off')?.split(',').filter(Boolean) || [];
const NO_ADAPTERS = process.argv.includes('--no-adapters');
const BUDGET_RATIO = 1.5;
const BUDGET_LOAD_MS = 3;

const root = new URL('..', import.meta.url);
const files = { '/microconv.js': 'dist/microconv.js', '/media/product-tour.webm': 'demo/media/product-tour.webm' };
let collected = 0;
const server = createServer(async (req, res) => {
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
    collected++;
    return;
  }
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/with' || path === '/without') {
    return res.writeHead(200, { 'content-type': 'text/html' }).end(landingPage({ withMicroconv: path === '/with' }));
  }
  if (!files[path]) return res.writeHead(404).end();
  const body = await readFile(new URL(files[path], root));
  res.writeHead(200, { 'content-type': path.endsWith('.js') ? 'text/javascript' : 'video/webm' }).end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const found = findChromium();
if (!found) throw new Error('No Chromium: run node scripts/ensure-chromium.mjs first');
const browser = await chromium.launch({ args: [...LAUNCH_ARGS, '--autoplay-policy=no-user-gesture-required'], ...(found.kind === 'system' ? { executablePath: found.path } : {}) });

const scriptTime = async (cdp) => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ScriptDuration').value * 1000;
const frame = (page) => page.evaluate(() => new Promise(requestAnimationFrame));
// A condition, not a sleep: the main thread has been idle twice since load, so work deferred to an idle
// moment (microconv's, or the page's) is done.
const settled = (page) => page.evaluate(() => new Promise((resolve) => requestIdleCallback(() => requestIdleCallback(resolve))));

/**
 * Runs `during` under a trace; returns the milliseconds of main-thread script from microconv.js before
 * the load event, and ScriptDuration read as soon as `during` is done (before the trace is collected,
 * which takes a while: work deferred to after load must not slip in unmeasured).
 */
async function traced(cdp, during) {
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'loading'] },
  });
  await during();
  const after = await scriptTime(cdp);
  const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.end');
  const { stream } = await complete;
  let text = '';
  for (let eof = false; !eof; ) {
    const chunk = await cdp.send('IO.read', { handle: stream });
    text += chunk.data;
    eof = chunk.eof;
  }
  await cdp.send('IO.close', { handle: stream });
  const parsed = JSON.parse(text);
  const events = parsed.traceEvents || parsed;
  const load = events.find((event) => event.name === 'MarkLoad')?.ts ?? Infinity;
  // Top-level script events of microconv.js; nested ones overlap, so intervals are merged.
  const ours = events.filter((event) => event.dur && event.ts < load && String(event.args?.data?.url || '').endsWith('/microconv.js'));
  const merged = (names) => {
    const spans = ours
      .filter((event) => names.includes(event.name))
      .map((event) => [event.ts, event.ts + event.dur])
      .sort((a, b) => a[0] - b[0]);
    let total = 0;
    let end = -Infinity;
    for (const [start, stop] of spans) {
      if (stop <= end) continue;
      total += stop - Math.max(start, end);
      end = stop;
    }
    return total / 1000;
  };
  return [merged(['EvaluateScript', 'FunctionCall']), after, merged(['EvaluateScript'])];
}

async function run(variant) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Trackers turned off through the stub's queue, as a site would: merged with the script tag's attributes.
  const init = { trackers: Object.fromEntries(OFF.map((name) => [name, false])), ...(NO_ADAPTERS && { adapters: [] }) };
  if (OFF.length || NO_ADAPTERS) await context.addInitScript(`window.microconv = Object.assign(function () {}, { q: [['init', ${JSON.stringify(init)}]] })`);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const [load, afterLoad, evaluate] = await traced(cdp, () => page.goto(`${origin}/${variant}`, { waitUntil: 'load' }));
  await settled(page);
  const atLoad = await scriptTime(cdp);
  const settle = atLoad - afterLoad;

  const phases = {};
  let mark = atLoad;
  const phase = async (name) => {
    const now = await scriptTime(cdp);
    phases[name] = now - mark;
    mark = now;
  };
  await page.mouse.move(640, 400);
  for (let step = 0; step < 50; step++) {
    await page.mouse.wheel(0, 160);
    await frame(page);
  }
  await phase('wheel');
  for (let i = 0; i < 10; i++) await page.click(`[data-mc-cta="cta_${i}"]`);
  await phase('clicks');
  await page.fill('input[name=name]', 'Ada Lovelace');
  await page.fill('input[name=email]', 'ada@example.com');
  await page.click('fieldset:not([hidden]) .next');
  await page.fill('input[name=company]', 'Analytical Engines');
  await page.click('fieldset:not([hidden]) .next');
  await page.fill('textarea[name=needs]', 'Fewer late invoices');
  await page.click('button[type=submit]');
  await phase('form');
  // Five seconds of playback, waited for on the video's own event rather than polled.
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const video = document.querySelector('video');
        const check = () => video.currentTime >= 5 && (video.removeEventListener('timeupdate', check), video.pause(), resolve());
        video.addEventListener('timeupdate', check);
        void video.play();
      }),
  );
  await frame(page);
  await phase('video');
  const total = await scriptTime(cdp);
  await context.close();
  return { load, evaluate, settle, journey: total - atLoad, ...phases };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const results = { with: [], without: [] };
await run('with'); // a warm-up, not counted: the first page pays for compiling what later ones reuse
await run('without');
for (let i = 0; i < RUNS; i++) {
  // Alternated, so that drift in the machine's load touches both alike.
  results.without.push(await run('without'));
  results.with.push(await run('with'));
}
await browser.close();
server.close();

const med = (variant, key) => median(results[variant].map((r) => r[key]));
const journeyWith = med('with', 'journey');
const journeyWithout = med('without', 'journey');
const loadCost = med('with', 'load');
const ratio = journeyWith / journeyWithout;
const fmt = (ms) => ms.toFixed(2).padStart(7) + ' ms';
console.log(`Chromium ${found.version || found.path}; ${RUNS} runs each; medians of main-thread script time`);
console.log(`load     microconv's own script before the load event    ${fmt(loadCost)}   budget ${BUDGET_LOAD_MS} ms`);
console.log(`         of which evaluating microconv.js (parse, compile, start) ${fmt(med('with', 'evaluate'))}`);
console.log(`settle   load to idle, without microconv                  ${fmt(med('without', 'settle'))}`);
console.log(`settle   load to idle, with microconv (its deferred start) ${fmt(med('with', 'settle'))}`);
console.log(`journey  without microconv                                ${fmt(journeyWithout)}`);
console.log(`journey  with microconv                                   ${fmt(journeyWith)}   ratio ${ratio.toFixed(2)}, budget ${BUDGET_RATIO}`);
console.log(`         by phase, without / with:  ${['wheel', 'clicks', 'form', 'video'].map((key) => `${key} ${med('without', key).toFixed(2)} / ${med('with', key).toFixed(2)}`).join(',  ')} ms`);
if (OFF.length) console.log(`         (with: trackers off: ${OFF.join(', ')})`);
if (NO_ADAPTERS) console.log('         (with: no adapters)');
console.log(`(${collected} requests reached the local collector)`);
if (ratio > BUDGET_RATIO || loadCost > BUDGET_LOAD_MS) {
  console.error('over budget');
  process.exitCode = 1;
}
