/**
 * The `microconv/debug` entry: the overlay that shows a marketer, live on the page, what fired and where
 * it went. The core never imports this file; in debug mode it loads `microconv-debug.js`, which mounts
 * this overlay. Everything is built with DOM methods and `textContent`: event data is only ever text.
 * Styles go through a constructable stylesheet, so a strict CSP (`style-src 'self'`) does not block them.
 */
import type { DebugHandle, DebugRecord, DeliveryReport, MicroconvEvent, Plan } from './types';

/** What the overlay outlines on the page when asked, and in which colour. */
const WATCHED: [selector: string, label: string, colour: string][] = [
  ['[data-mc-cta],a[href^="tel:"],a[href^="mailto:"]', 'CTA', '#e8590c'],
  ['a[href$=".pdf"],a[href$=".zip"],a[href$=".docx"],a[href$=".xlsx"],a[href$=".pptx"],a[href$=".csv"],a[download]', 'download', '#c2255c'],
  ['[data-mc-section]', 'section', '#1c7ed6'],
  ['form[data-mc-form]', 'form', '#2b8a3e'],
  ['form[data-mc-form] [data-mc-step]', 'form step', '#0ca678'],
  ['video,iframe[src*="enablejsapi=1"],iframe[src*="api=1"]', 'video', '#7048e8'],
];

const STATUS_TEXT: Record<string, string> = { held: 'held for consent' };

/** The collector's answer of `GET /forwarding` (collector/forward/preview.ts), as far as the overlay reads it. */
interface ServerDecision {
  destination: string;
  forwarded: boolean;
  why: string;
}
interface ServerForwarding {
  forwarding: true;
  destinations: { destination: string; label: string; mode: string }[];
  events: Record<string, ServerDecision[]>;
}
const PLAN_LIMIT = 8;

const CSS = `
:host { all: initial; }
[hidden] { display: none !important; }
.panel { position: fixed; right: 12px; bottom: 12px; z-index: 2147483647; width: min(420px, calc(100vw - 24px));
  max-height: min(70vh, 640px); display: flex; flex-direction: column; font: 12px/1.4 system-ui, sans-serif;
  color: #1a1b1e; background: #fff; border: 1px solid #ced4da; border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.18); }
header { display: flex; gap: 6px; align-items: center; padding: 6px 8px; border-bottom: 1px solid #e9ecef; }
header .summary { flex: 1; color: #495057; }
button { font: inherit; padding: 3px 8px; border: 1px solid #adb5bd; border-radius: 4px; background: #f8f9fa; color: inherit; cursor: pointer; }
button:focus-visible { outline: 2px solid #1c7ed6; outline-offset: 1px; }
button[aria-pressed="true"] { background: #1c7ed6; color: #fff; border-color: #1c7ed6; }
.body { overflow: auto; padding: 6px 8px; }
.collapsed .body { display: none; }
h2 { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: #868e96; margin: 8px 0 4px; }
ul, ol { list-style: none; margin: 0; padding: 0; }
.warnings li { color: #a61e4d; margin: 2px 0; }
.warnings li.info { color: #495057; }
table { border-collapse: collapse; width: 100%; }
td { padding: 1px 4px; border-bottom: 1px solid #f1f3f5; }
td:last-child { text-align: right; font-variant-numeric: tabular-nums; }
.events > li { border-top: 1px solid #e9ecef; padding: 4px 0; }
.events .name { font-weight: 600; }
.events time { color: #868e96; margin-right: 6px; font-variant-numeric: tabular-nums; }
.params { white-space: pre-wrap; word-break: break-all; font: 11px/1.35 ui-monospace, monospace; color: #343a40; margin: 2px 0; }
.deliveries { display: flex; flex-wrap: wrap; gap: 4px; }
.deliveries li { border-radius: 3px; padding: 0 5px; background: #e9ecef; }
.sent { background: #d3f9d8 !important; } .queued, .held { background: #fff3bf !important; }
.retrying { background: #ffe8cc !important; } .failed, .dropped { background: #ffe3e3 !important; }
.server { color: #2b8a3e; margin-top: 2px; } .server.none { color: #868e96; }
.server-summary { color: #495057; margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 8px; margin: 4px 0; }
.legend span { border-left: 10px solid; padding-left: 4px; }
`;

/** Creates an element with a class and text: the one way this overlay puts anything on the page. */
function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The names a plan counts as micro-conversions, and its macro conversions. */
function planNames(plan: Plan | undefined) {
  const macro = new Set(plan?.macro || []);
  const micro = new Set(Object.values(plan?.stages || {}).flat().filter((name) => !macro.has(name)));
  return { macro, micro };
}

/**
 * Where the collector says what it forwards: `forwarding` beside the endpoint (`/collect` gives
 * `/forwarding`). The endpoint comes from the handle, else from microconv's script tag.
 */
function forwardingUrl(handle: DebugHandle): URL | undefined {
  const endpoint = handle.endpoint || document.querySelector<HTMLScriptElement>('script[src*="microconv"][data-endpoint]')?.dataset.endpoint;
  try {
    const url = endpoint ? new URL('forwarding', new URL(endpoint, document.baseURI)) : undefined;
    return url && /^https?:$/.test(url.protocol) ? url : undefined;
  } catch {
    return undefined; // an endpoint that is no URL: the core has said so already
  }
}

/** One event name's server-side fate, as a line: where it goes, and why not elsewhere. */
function serverLine(decisions: ServerDecision[], label: (decision: ServerDecision) => string): string {
  const to = decisions.filter((decision) => decision.forwarded).map(label);
  const not = decisions.filter((decision) => !decision.forwarded);
  const whys = new Set(not.map((decision) => decision.why));
  const notText = !not.length ? '' : !to.length && whys.size === 1 ? `not forwarded: ${not[0].why}` : not.map((decision) => `not ${label(decision)}: ${decision.why}`).join(' · ');
  return [to.length ? `${to.join(', ')} — server` : '', notText].filter(Boolean).join(' · ');
}

/**
 * Mounts the overlay for an instance in debug mode and returns its teardown. It lists every event as
 * it is emitted (name, parameters, time) with each adapter's delivery result, counts per event name,
 * and the plan's warnings; it can outline on the page the elements microconv watches.
 *
 * @example
 * import { mountOverlay } from 'microconv/debug';
 * mountOverlay(handle); // what an instance in debug mode hands over
 */
export function mountOverlay(handle: DebugHandle): () => void {
  const host = element('div');
  host.id = 'microconv-overlay';
  const root = host.attachShadow({ mode: 'open' });
  if ('adoptedStyleSheets' in root) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else (root as ShadowRoot).append(element('style', undefined, CSS)); // older browsers, without a strict CSP to mind

  const panel = element('section', 'panel');
  panel.setAttribute('aria-label', 'microconv debug overlay');
  const header = element('header');
  const toggle = element('button', 'toggle', 'microconv');
  toggle.setAttribute('aria-expanded', 'true');
  const summary = element('span', 'summary');
  const highlight = element('button', 'highlight', 'Outline tagged elements');
  highlight.setAttribute('aria-pressed', 'false');
  header.append(toggle, summary, highlight);

  const body = element('div', 'body');
  const warnings = element('ul', 'warnings');
  const legend = element('div', 'legend');
  legend.hidden = true;
  for (const [, label, colour] of WATCHED) {
    const key = element('span', undefined, label);
    key.style.borderColor = colour; // through the CSSOM: a style attribute would break a strict CSP
    legend.append(key);
  }
  const serverSummary = element('p', 'server-summary');
  serverSummary.hidden = true;
  const counts = element('table', 'counts');
  const events = element('ol', 'events');
  events.setAttribute('aria-live', 'polite');
  body.append(element('h2', undefined, 'Warnings'), warnings, legend, element('h2', undefined, 'Counts'), counts, serverSummary, element('h2', undefined, 'Events'), events);
  panel.append(header, body);
  root.append(panel);

  // Collapsing hides the body; the event list stays in the DOM either way.
  const setOpen = (open: boolean) => {
    panel.classList.toggle('collapsed', !open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => setOpen(panel.classList.contains('collapsed')));
  panel.addEventListener('keydown', (event) => event.key === 'Escape' && (setOpen(false), toggle.focus()));

  // Outlines go on the page's own elements through the CSSOM (allowed under a strict CSP), and come off again.
  const outlined = new Map<HTMLElement, string>();
  const setOutlines = (on: boolean) => {
    highlight.setAttribute('aria-pressed', String(on));
    legend.hidden = !on;
    outlined.forEach((previous, target) => (target.style.outline = previous));
    outlined.clear();
    if (!on) return;
    for (const [selector, , colour] of WATCHED) {
      for (const target of document.querySelectorAll<HTMLElement>(selector)) {
        if (!outlined.has(target)) outlined.set(target, target.style.outline);
        target.style.outline = `2px dashed ${colour}`;
      }
    }
  };
  highlight.addEventListener('click', () => setOutlines(highlight.getAttribute('aria-pressed') !== 'true'));

  const { macro, micro } = planNames(handle.plan);
  const warned = new Set<string>();
  const warn = (text: string, className?: string) => {
    if (warned.has(text)) return;
    warned.add(text);
    warnings.append(element('li', className, text));
  };
  if (!handle.plan) warn('No measurement plan: events are not checked against one.', 'info');
  if (micro.size > PLAN_LIMIT) warn(`The plan names ${micro.size} micro-conversions: keep the few (5 to 8) that predict the macro conversion.`);

  const perName = new Map<string, number>();
  const rows = new Map<string, HTMLTableCellElement>();
  const entries = new Map<string, HTMLUListElement>();
  let total = 0;
  const refresh = () => {
    const dropped = Object.values(handle.stats().dropped).reduce((sum, n) => sum + n, 0);
    summary.textContent = `${total} event${total === 1 ? '' : 's'} · ${handle.adapters.join(', ') || 'no adapters'}${dropped ? ` · ${dropped} dropped` : ''}`;
  };

  // What the collector will forward server-side: asked once, then again only for names it did not list.
  const forwarding = forwardingUrl(handle);
  let server: ServerForwarding | undefined;
  let asking = false;
  let done = !forwarding; // no endpoint, no forwarding there, or the question failed: nothing more to ask
  const asked = new Set<string>();
  const label = (decision: ServerDecision) => server!.destinations.find((d) => d.destination === decision.destination)?.label || decision.destination;
  const showServer = (line: HTMLElement) => {
    const decisions = server?.events[line.dataset.name!];
    line.hidden = !decisions;
    if (!decisions) return;
    line.className = decisions.some((decision) => decision.forwarded) ? 'server' : 'server none';
    line.textContent = serverLine(decisions, label);
  };
  const showServerSummary = () => {
    if (!server) return;
    const names = [...perName.keys()].filter((name) => server!.events[name]);
    const forwarded = names.filter((name) => server!.events[name].some((decision) => decision.forwarded));
    const where = server.destinations.map((d) => `${d.label}${d.mode === 'live' ? '' : ` (${d.mode.replace('_', ' ')})`}`).join(', ');
    serverSummary.hidden = false;
    const here = names.length ? `: ${forwarded.length} of ${names.length} event names here` : '';
    serverSummary.textContent = `Server forwarding to ${where}${here}; consent applies per event.`;
  };
  const askServer = () => {
    const fresh = [...perName.keys()].filter((name) => !asked.has(name) && !server?.events[name]);
    if (done || asking || (server && !fresh.length)) return;
    asking = true;
    const url = new URL(forwarding!);
    fresh.forEach((name) => (asked.add(name), url.searchParams.append('name', name)));
    fetch(url, { credentials: 'omit', referrerPolicy: 'strict-origin', cache: 'no-store' })
      .then((response) => (response.status === 404 ? null : response.ok ? response.json() : Promise.reject(new Error('HTTP ' + response.status))))
      .then((answer: ServerForwarding | null) => {
        asking = false;
        // A 404 or `{ forwarding: false }`: this collector forwards nothing, and the overlay says nothing.
        if (!answer?.forwarding) return void (done = true);
        server = { ...answer, events: { ...server?.events, ...answer.events } };
        events.querySelectorAll<HTMLElement>('.server').forEach(showServer);
        showServerSummary();
        askServer();
      })
      .catch((error: unknown) => {
        done = true;
        serverSummary.hidden = false;
        serverSummary.textContent = `Server forwarding could not be read (${error instanceof Error ? error.message : 'no answer'}).`;
      });
  };

  const onEvent = (event: MicroconvEvent) => {
    total++;
    const count = (perName.get(event.name) || 0) + 1;
    perName.set(event.name, count);
    if (!rows.has(event.name)) {
      const row = counts.insertRow();
      row.insertCell().textContent = event.name;
      rows.set(event.name, row.insertCell());
    }
    rows.get(event.name)!.textContent = String(count);
    if (handle.plan && !macro.has(event.name) && !micro.has(event.name)) warn(`${event.name} is not in the plan.`);

    const item = element('li');
    item.dataset.eventId = event.event_id;
    const head = element('div');
    head.append(element('time', undefined, new Date(event.ts).toLocaleTimeString()), element('span', 'name', event.name));
    const deliveries = element('ul', 'deliveries');
    const serverText = element('div', 'server');
    serverText.dataset.name = event.name;
    showServer(serverText);
    item.append(head, element('pre', 'params', JSON.stringify(event.params, null, 1)), deliveries, serverText);
    entries.set(event.event_id, deliveries);
    events.prepend(item);
    // A long session keeps the newest 200.
    if (events.children.length > 200) entries.delete((events.lastElementChild as HTMLElement).dataset.eventId!), events.lastElementChild!.remove();
    refresh();
    showServerSummary();
    queueMicrotask(askServer); // after the rest of a replayed history: one question for all of it
  };

  const onDelivery = ({ adapter, status, event_ids, reason }: DeliveryReport) => {
    if (adapter === '*') return refresh();
    for (const id of event_ids) {
      const list = entries.get(id);
      if (!list) continue;
      let badge = [...list.children].find((child) => (child as HTMLElement).dataset.adapter === adapter) as HTMLElement | undefined;
      if (!badge) (badge = element('li')), (badge.dataset.adapter = adapter), list.append(badge);
      badge.className = status;
      badge.textContent = `${adapter}: ${STATUS_TEXT[status] || status}${reason && status !== 'held' ? ` (${reason})` : ''}`;
    }
    refresh();
  };

  const replay = (record: DebugRecord) => {
    if (record[0] === 'event') onEvent(record[1]);
    else if (record[0] === 'delivery') onDelivery(record[1]);
    else if (record[1].level !== 'debug') warn(record[1].message, record[1].level === 'warn' ? undefined : 'error');
  };
  handle.history.forEach(replay);
  const stops = [
    handle.on('event', onEvent),
    handle.on('delivery', onDelivery),
    handle.on('log', (entry) => replay(['log', entry])),
  ];
  refresh();
  queueMicrotask(askServer);
  document.documentElement.append(host);

  return () => {
    done = true;
    stops.forEach((stop) => stop());
    setOutlines(false);
    host.remove();
  };
}
