// `npm run bench`: main-thread script time of a landing page in a real Chromium, read through the
// DevTools protocol, with no tracker, with microconv, and beside it, on the same page, journey and run,
// its peers from their published npm packages (bench/package.json: Plausible, Snowplow with link and form
// tracking, Snowplow with every plugin that covers microconv's ground), the floor (bench/peers/floor.js,
// the least any tracker can do for this journey) and the durable floor (bench/peers/floor-durable.js: the
// floor plus the least that the contract's delivery asks, each event in IndexedDB by the end of its
// task). Three phases per run:
//   load     navigation to the load event: microconv's own script in it, attributed by URL from a
//            performance trace (its EvaluateScript and FunctionCall events), so nothing of the page or
//            the harness is counted;
//   settle   load event to the main thread's second idle period (requestIdleCallback): where microconv
//            does what it deferred (its start, trackers, the IndexedDB queue); printed as each one's own
//            script in it, "then to idle", from the same trace;
//   journey  the scripted visit: 50 wheel steps down the page, 10 CTA clicks, the form filled and
//            submitted, 5 s of video; ScriptDuration (Performance.getMetrics), page and all.
// Prints, per variant, medians of every run: the file's brotli size, its script before load and from
// then to idle, the journey and its cost above no tracker (each round's difference, with an interval
// for their median) as a multiple of the floor's, its own script in the journey and how many times the
// browser called into it; what storing each event costs (the durable floor beside the floor, Plausible
// and microconv, round by round); judges microconv's budgets round by round, and fails unless all are met.
// `--only microconv,floor` runs some variants (none always runs); `--off cta,video` runs microconv with
// those trackers off: what each one costs; `--no-adapters` with no destination (events are built, never
// queued, stored or sent); `--profile` adds one run of an unminified microconv under the CPU profiler and
// prints where its time goes in each phase.
//   node bench/run.mjs [--runs 7] [--only ...] [--off cta,sections,scroll,forms,video,spa] [--no-adapters] [--profile]
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, constants } from 'node:zlib';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { LAUNCH_ARGS, findChromium } from '../scripts/chromium.mjs';
import { buildPeers } from './build.mjs';
import { landingPage } from './landing.mjs';
import { median, medianInterval } from './stats.mjs';

const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const RUNS = Number(arg('--runs')) || 7;
const OFF = arg('--off')?.split(',').filter(Boolean) || [];
const NO_ADAPTERS = process.argv.includes('--no-adapters');
const PROFILE = process.argv.includes('--profile');
/** microconv's budgets, as multiples of the floor's: its journey cost above no tracker, and its load script. */
const BUDGET_FLOOR_MULTIPLE = 1.5;
const PEERS = ['floor', 'floor-durable', 'plausible', 'snowplow', 'snowplow-full'];
const VARIANTS = ['none', ...(arg('--only')?.split(',').filter((name) => name !== 'none') || ['microconv', ...PEERS])];
for (const name of VARIANTS) if (name !== 'none' && name !== 'microconv' && !PEERS.includes(name)) throw new Error(`unknown variant ${name}`);
await buildPeers({ profile: PROFILE });

const root = new URL('..', import.meta.url);
const files = {
  '/microconv.js': 'dist/microconv.js',
  '/microconv.profile.js': 'bench/.build/microconv.profile.js',
  '/media/product-tour.webm': 'demo/media/product-tour.webm',
  ...Object.fromEntries(PEERS.map((name) => [`/peer/${name}.js`, `bench/.build/${name}.js`])),
};
/** The script tag each variant adds to the page; `none` adds nothing. */
const scriptTag = (variant) =>
  variant === 'none' ? '' : variant === 'microconv' || variant === 'profile' ? `<script async src="/microconv${variant === 'profile' ? '.profile' : ''}.js" data-endpoint="/collect"></script>` : `<script async src="/peer/${variant}.js"></script>`;
const fileOf = (variant) => (variant === 'microconv' ? 'dist/microconv.js' : `bench/.build/${variant}.js`);
let collected = 0;
const server = createServer(async (req, res) => {
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
    collected++;
    return;
  }
  const path = new URL(req.url, 'http://x').pathname;
  if (path.startsWith('/page/')) return res.writeHead(200, { 'content-type': 'text/html' }).end(landingPage({ script: scriptTag(path.slice(6)) }));
  // microconv's lazy parts (forms, video, …) are fetched from next to microconv.js, as on a real site.
  const file = files[path] || (/^\/microconv-[\w-]+\.js$/.test(path) ? 'dist' + path : undefined);
  if (!file) return res.writeHead(404).end();
  const body = await readFile(new URL(file, root)).catch(() => undefined);
  if (!body) return res.writeHead(404).end();
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

/** Starts a performance trace; `stop()` resolves to its events. */
async function startTrace(cdp) {
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: { includedCategories: ['devtools.timeline', 'blink.user_timing'] },
  });
  return async () => {
    const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    const { stream } = await complete;
    const chunks = [];
    for (let eof = false; !eof; ) {
      const chunk = await cdp.send('IO.read', { handle: stream });
      chunks.push(chunk.data);
      eof = chunk.eof;
    }
    await cdp.send('IO.close', { handle: stream });
    const parsed = JSON.parse(chunks.join(''));
    return parsed.traceEvents || parsed;
  };
}

/**
 * Main-thread script run from the file at `scriptPath` between two trace times: its top-level script
 * events (evaluation, and every callback: listeners, observers, timers, with what they force, such as
 * layout), nested ones merged so nothing counts twice. `ms`: their time; `calls`: how many times the
 * browser called into the file (each call costs its own overhead, however little it does).
 */
function ownScript(events, scriptPath, from, to, names = ['EvaluateScript', 'FunctionCall']) {
  const spans = events
    .filter((event) => event.dur && event.ts >= from && event.ts < to && names.includes(event.name) && String(event.args?.data?.url || '').endsWith(scriptPath))
    .map((event) => [event.ts, event.ts + event.dur])
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let calls = 0;
  let end = -Infinity;
  for (const [start, stop] of spans) {
    if (stop <= end) continue;
    calls += start >= end ? 1 : 0;
    total += stop - Math.max(start, end);
    end = stop;
  }
  return { ms: total / 1000, calls };
}

/**
 * Time by function of the script at `scriptPath`, from a CDP CPU profile: [name, ms][] largest first.
 * A sample counts for the innermost of the script's functions on its stack, and what that function was
 * running when it is not the script's own code (a native call: document.cookie, localStorage, JSON, a
 * layout it forced) is named beside it, `readCookie:132 > (get cookie)`: self time alone misses it.
 */
function selfTimes(profile, scriptPath) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children || []) parents.set(child, node.id);
  const label = ({ callFrame }) => `${callFrame.functionName || '(anonymous)'}${callFrame.url ? ':' + (callFrame.lineNumber + 1) : ''}`;
  const byName = new Map();
  profile.samples.forEach((id, i) => {
    let node = nodes.get(id);
    const leaf = node;
    while (node && !node.callFrame.url.endsWith(scriptPath)) node = nodes.get(parents.get(node.id));
    if (!node) return;
    const name = label(node) + (leaf === node ? '' : ` > (${leaf.callFrame.functionName || leaf.callFrame.url.split('/').pop() || 'native'})`);
    byName.set(name, (byName.get(name) || 0) + (profile.timeDeltas[i] || 0) / 1000);
  });
  return [...byName].sort((a, b) => b[1] - a[1]);
}

/** The path of the script a variant loads, for the trace and the profile; none for `none`. */
const scriptPathOf = (variant) => (variant === 'none' ? '' : variant === 'microconv' ? '/microconv.js' : variant === 'profile' ? '/microconv.profile.js' : `/peer/${variant}.js`);

/** One visit: load, settle, the journey's four phases. `profile`: the unminified microconv under the CPU profiler. */
async function run(variant) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Trackers turned off through the stub's queue, as a site would: merged with the script tag's attributes.
  const init = { trackers: Object.fromEntries(OFF.map((name) => [name, false])), ...(NO_ADAPTERS && { adapters: [] }) };
  const ours = variant === 'microconv' || variant === 'profile';
  if (ours && (OFF.length || NO_ADAPTERS)) await context.addInitScript(`window.microconv = Object.assign(function () {}, { q: [['init', ${JSON.stringify(init)}]] })`);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const scriptPath = scriptPathOf(variant);
  const profiles = {};
  const profiling = variant === 'profile';
  if (profiling) await cdp.send('Profiler.enable'), await cdp.send('Profiler.setSamplingInterval', { interval: 50 }), await cdp.send('Profiler.start');
  const stopTrace = await startTrace(cdp);
  await page.goto(`${origin}/page/${variant}`, { waitUntil: 'load' });
  // Read as soon as the load event is in, so that work deferred to after load is not counted in it.
  const afterLoad = await scriptTime(cdp);
  await settled(page);
  await page.evaluate(() => performance.mark('journey'));
  const atLoad = await scriptTime(cdp);
  const settle = atLoad - afterLoad;

  const phases = {};
  let mark = atLoad;
  const phase = async (name) => {
    const now = await scriptTime(cdp);
    phases[name] = now - mark;
    mark = now;
    if (profiling) (profiles[name] = selfTimes((await cdp.send('Profiler.stop')).profile, scriptPath)), await cdp.send('Profiler.start');
  };
  await phase('load+settle');
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
  await page.evaluate(() => performance.mark('end'));
  if (profiling) await cdp.send('Profiler.stop');
  const events = await stopTrace();
  await context.close();
  delete phases['load+settle'];
  const at = (name) => events.find((event) => event.name === name && String(event.cat).includes('user_timing'))?.ts;
  const loadAt = events.find((event) => event.name === 'MarkLoad')?.ts ?? Infinity;
  const [journeyAt, endAt] = [at('journey'), at('end')];
  if (journeyAt === undefined || endAt === undefined) throw new Error('the trace lacks the journey marks');
  // The tracker's own script during the journey, from the trace: a steadier figure than a difference.
  const inJourney = ownScript(events, scriptPath, journeyAt, endAt);
  return {
    load: ownScript(events, scriptPath, 0, loadAt).ms,
    evaluate: ownScript(events, scriptPath, 0, loadAt, ['EvaluateScript']).ms,
    // What it deferred past the load event (its start, its trackers, its storage), up to the journey.
    deferred: ownScript(events, scriptPath, loadAt, journeyAt).ms,
    settle,
    journey: total - atLoad,
    own: inJourney.ms,
    calls: inJourney.calls,
    ...phases,
    profiles,
  };
}

const results = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
// A warm-up of each, not counted: the first page pays for compiling what later ones reuse.
for (const variant of VARIANTS) await run(variant);
for (let i = 0; i < RUNS; i++) {
  // Every variant once per round, the order rotated each round, so drift in the machine's load touches all alike.
  for (let k = 0; k < VARIANTS.length; k++) {
    const variant = VARIANTS[(i + k) % VARIANTS.length];
    results[variant].push(await run(variant));
  }
}
/**
 * Per round, `value(run of variant, run of none, round)`: the runs of one round share the machine's
 * moment, so a difference within a round leaves out the drift between rounds.
 */
const paired = (variant, value) => results[variant].map((run, i) => value(run, results.none[i], i));
/** A run's journey less the journey with no tracker of its round. */
const costOf = (run, none) => run.journey - none.journey;
const costs = (variant) => paired(variant, costOf);
const profiled = PROFILE ? await run('profile') : undefined;
await browser.close();
server.close();

const med = (variant, key) => median(results[variant].map((r) => r[key]));
const brotli = (variant) => {
  if (variant === 'none') return 0;
  return brotliCompressSync(readFileSync(new URL(fileOf(variant), root)), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
};
const none = med('none', 'journey');
const floorCost = VARIANTS.includes('floor') ? median(costs('floor')) : undefined;
const rows = VARIANTS.map((variant) => {
  const journey = med(variant, 'journey');
  const cost = medianInterval(costs(variant));
  return {
    variant,
    kb: (brotli(variant) / 1024).toFixed(1),
    load: med(variant, 'load'),
    journey,
    ratio: journey / none,
    cost,
    floorMultiple: floorCost !== undefined && variant !== 'none' ? cost.median / floorCost : undefined,
    own: med(variant, 'own'),
    phases: ['wheel', 'clicks', 'form', 'video'].map((key) => med(variant, key).toFixed(1)).join(' / '),
  };
});
const ms = (value) => value.toFixed(1) + ' ms';
console.log(`Chromium ${found.version || found.path}; ${RUNS} runs of each variant, alternated; medians of main-thread script time`);
console.log('journey: 50 wheel steps, 10 CTA clicks, a 3-step form, 5 s of video; cost = journey minus the journey with no tracker');
console.log(`of the same round, median and [interval], ${Math.floor(rows[0].cost.level * 1000) / 10} % sure to hold the median\n`);
const table = [
  ['variant', 'file, brotli', 'load script', 'then to idle', 'journey', 'x none', 'cost above none', 'x floor\'s cost', 'own script in journey', 'calls', 'wheel / clicks / form / video'],
  ...rows.map((row) => [
    row.variant,
    row.variant === 'none' ? '' : row.kb + ' KB',
    row.variant === 'none' ? '' : ms(row.load),
    row.variant === 'none' ? '' : ms(med(row.variant, 'deferred')),
    ms(row.journey),
    row.ratio.toFixed(2) + 'x',
    row.variant === 'none' ? '' : `${ms(row.cost.median)} [${row.cost.low.toFixed(1)}, ${row.cost.high.toFixed(1)}]`,
    row.floorMultiple === undefined ? '' : row.floorMultiple.toFixed(2) + 'x',
    row.variant === 'none' ? '' : ms(row.own) + (floorCost !== undefined && row.variant !== 'floor' ? ` (${(row.own / med('floor', 'own')).toFixed(2)}x floor)` : ''),
    row.variant === 'none' ? '' : String(med(row.variant, 'calls')),
    row.phases,
  ]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
for (const row of table) console.log(row.map((cell, i) => (i === 0 || i === 10 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
if (OFF.length) console.log(`(microconv: trackers off: ${OFF.join(', ')})`);
if (NO_ADAPTERS) console.log('(microconv: no adapters)');
console.log(`(${collected} requests reached the local collector)`);

if (profiled) {
  console.log('\nWhere microconv\'s own time goes (unminified build, one profiled run; time by function of microconv, with what it called outside its own code):');
  for (const [name, times] of Object.entries(profiled.profiles)) {
    const total = times.reduce((sum, [, t]) => sum + t, 0);
    console.log(`  ${name}: ${ms(total)} in microconv.js; ${times.slice(0, 8).map(([fn, t]) => `${fn} ${t.toFixed(2)}`).join(', ')}`);
  }
}

// microconv's budgets (issue 11): its journey cost at most 1.5x the floor's and below Plausible's; its load
// script at most 1.5x the floor's. Each is judged on its margin, round by round (ours less the budget,
// from the same round), so that a verdict is not the luck of two medians: met when the interval of the
// median margin lies at or below zero, not met when above, and unclear at this number of runs between.
/** `value(run of variant, none's run, other's run)` of each round, its median and interval. */
const perRound = (variant, other, value) => medianInterval(paired(variant, (run, none, i) => value(run, none, results[other][i])));
const verdicts = [];
/** The budget `text` against `variant`: `margin(our run, none's, variant's)` of each round. */
const margins = (text, variant, margin) => VARIANTS.includes(variant) && verdicts.push([text, perRound('microconv', variant, margin)]);
if (VARIANTS.includes('microconv')) {
  margins(`journey cost <= ${BUDGET_FLOOR_MULTIPLE}x the floor's`, 'floor', (ours, none, floorRun) => costOf(ours, none) - BUDGET_FLOOR_MULTIPLE * costOf(floorRun, none));
  margins(`load script <= ${BUDGET_FLOOR_MULTIPLE}x the floor's`, 'floor', (ours, _, floorRun) => ours.load - BUDGET_FLOOR_MULTIPLE * floorRun.load);
  margins("journey cost < Plausible's", 'plausible', (ours, none, peer) => costOf(ours, none) - costOf(peer, none));
}
// Not a budget, but what the budgets above leave out: the floor and Plausible store nothing, and the
// contract asks that each event survive a crashed tab. The durable floor does the least of that; how far
// microconv is from it is how much of its cost is its own, and how much any tracker that keeps the
// contract pays on this journey.
const durable = [];
if (VARIANTS.includes('floor-durable')) {
  const against = (text, variant, value) => VARIANTS.includes(variant) && durable.push([text, perRound(variant, 'floor-durable', value)]);
  against("the durable floor's cost less the floor's", 'floor', (floorRun, none, durableRun) => costOf(durableRun, none) - costOf(floorRun, none));
  against("the durable floor's cost less 1.5x the floor's", 'floor', (floorRun, none, durableRun) => costOf(durableRun, none) - BUDGET_FLOOR_MULTIPLE * costOf(floorRun, none));
  against("the durable floor's cost less Plausible's", 'plausible', (peer, none, durableRun) => costOf(durableRun, none) - costOf(peer, none));
  against("microconv's cost less the durable floor's", 'microconv', (ours, none, durableRun) => costOf(ours, none) - costOf(durableRun, none));
  against("microconv's cost less 1.5x the durable floor's", 'microconv', (ours, none, durableRun) => costOf(ours, none) - BUDGET_FLOOR_MULTIPLE * costOf(durableRun, none));
}
if (durable.length) console.log('\nWhat storing each event costs (per round; median [interval]; above zero when the interval is):');
for (const [text, { median: mid, low, high }] of durable) console.log(`  ${low > 0 ? 'above 0' : high < 0 ? 'below 0' : 'unclear'}  ${text}: ${ms(mid)} [${low.toFixed(1)}, ${high.toFixed(1)}]`);

if (verdicts.length) console.log('\nmicroconv budgets (margin: ours less the budget, per round; median [interval]):');
for (const [text, { median: mid, low, high }] of verdicts) console.log(`  ${high <= 0 ? 'met    ' : low > 0 ? 'NOT met' : 'unclear'}  ${text}: margin ${ms(mid)} [${low.toFixed(1)}, ${high.toFixed(1)}]`);
if (verdicts.some(([, { high }]) => high > 0)) process.exitCode = 1;
