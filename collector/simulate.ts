import type { Attribution, MicroconvEvent, Params, Plan } from '../src/types';
import type { Stage } from './plan';
import { mulberry32, type Random } from './prng';
import type { SignalCounts } from './store';

/**
 * Synthetic traffic whose truth is known. A session has each signal with a set probability (given
 * the signal it requires, if any), and converts with a probability set by a logistic model: the
 * baseline odds times the odds ratio of each signal it has. So the true effect of every signal is a
 * number in the model, and `exactTruth` computes what the report estimates, exactly, from the model.
 */
export interface SignalModel {
  name: string;
  /** The plan stage; `null` for an event the plan does not list (the report must still show it). */
  stage: Stage | null;
  /** P(a session has it), given its `requires` signal when there is one. */
  probability: number;
  /** Multiplies the odds of converting when the session has it; 1 = no effect of its own. */
  oddsRatio: number;
  /** Only sessions that have this earlier signal can have this one (a milestone needs a play). */
  requires?: string;
}

export interface TrafficModel {
  /** Conversion probability of a session with none of the signals. */
  baseline: number;
  signals: SignalModel[];
  /** The macro event a converting session sends, by weight. */
  macro: Array<{ name: string; weight: number }>;
  /** Chance that a converting session goes on browsing: events after conversion, which must not count. */
  afterConversion: number;
}

/**
 * Traffic for the demo site (Tally, an invoicing product whose macro conversion is a demo request,
 * `generate_lead`). Effects, by design:
 * - raise conversion: section_view (a little), video_play, cta_click, form_begin, form_step;
 * - no effect and no association: scroll_depth, download_click, web_vitals;
 * - no effect of its own, yet associated: video_milestone (only sessions that played the video reach it);
 * - lowers conversion: form_abandon.
 * video_play, form_abandon and web_vitals are not in the demo's plan; the report shows them anyway.
 */
export const DEMO_MODEL: TrafficModel = {
  baseline: 0.02,
  signals: [
    { name: 'section_view', stage: 'engagement', probability: 0.8, oddsRatio: 1.3 },
    { name: 'scroll_depth', stage: 'engagement', probability: 0.6, oddsRatio: 1 },
    { name: 'video_play', stage: null, probability: 0.3, oddsRatio: 1.8 },
    { name: 'video_milestone', stage: 'consideration', probability: 0.55, oddsRatio: 1, requires: 'video_play' },
    { name: 'download_click', stage: 'consideration', probability: 0.1, oddsRatio: 1 },
    { name: 'cta_click', stage: 'intent', probability: 0.4, oddsRatio: 2.2 },
    { name: 'form_begin', stage: 'intent', probability: 0.2, oddsRatio: 3 },
    { name: 'form_step', stage: 'intent', probability: 0.6, oddsRatio: 2.5, requires: 'form_begin' },
    { name: 'form_abandon', stage: null, probability: 0.45, oddsRatio: 0.05, requires: 'form_begin' },
    { name: 'web_vitals', stage: null, probability: 0.8, oddsRatio: 1 },
  ],
  macro: [{ name: 'generate_lead', weight: 1 }],
  afterConversion: 0.4,
};

/** The measurement plan that matches a model (what `demo/plan.json` should say for the demo model). */
export function modelPlan(model: TrafficModel): Required<Plan> {
  const stages: Required<Plan>['stages'] = {};
  for (const signal of model.signals) if (signal.stage) (stages[signal.stage] ??= []).push(signal.name);
  const macro = model.macro.map((entry) => entry.name);
  // With no micro-conversion of its own, the funnel's last stage is the macro conversion (as in the demo's plan).
  stages.conversion ??= [...macro];
  return { macro, stages };
}

/** What the report estimates for one signal, computed exactly from the model. */
export interface SignalTruth {
  signal: string;
  /** P(a session has it). */
  share: number;
  /** P(convert | has it). */
  rateWith: number;
  /** P(convert | does not have it). */
  rateWithout: number;
  /** rateWith − rateWithout: the estimand of the report's difference interval. */
  difference: number;
}

function checkModel(model: TrafficModel): void {
  model.signals.forEach((signal, index) => {
    if (signal.requires && !model.signals.slice(0, index).some((earlier) => earlier.name === signal.requires)) {
      throw new Error(`model: ${signal.name} requires ${signal.requires}, which must come before it`);
    }
  });
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

/** A model prepared for drawing many sessions fast: indices and logs computed once. */
interface Compiled {
  intercept: number;
  logOdds: number[];
  requires: number[];
  probability: number[];
}
const compiled = new WeakMap<TrafficModel, Compiled>();
function compile(model: TrafficModel): Compiled {
  let result = compiled.get(model);
  if (!result) {
    checkModel(model);
    const index = new Map(model.signals.map((signal, i) => [signal.name, i]));
    result = {
      intercept: logit(model.baseline),
      logOdds: model.signals.map((signal) => Math.log(signal.oddsRatio)),
      requires: model.signals.map((signal) => (signal.requires ? index.get(signal.requires)! : -1)),
      probability: model.signals.map((signal) => signal.probability),
    };
    compiled.set(model, result);
  }
  return result;
}

/** P(convert) for a session with the signals marked in `has`. */
export function conversionProbability(model: TrafficModel, has: ArrayLike<boolean | number>): number {
  const { intercept, logOdds } = compile(model);
  let x = intercept;
  for (let i = 0; i < logOdds.length; i++) if (has[i]) x += logOdds[i]!;
  return logistic(x);
}

/**
 * The exact association of every signal with conversion in the model: P(convert | has it) and
 * P(convert | has it not), by summing over all 2^k combinations of signals with their probabilities.
 * This is the same estimand as the report's (sessions with vs. without), not the odds ratio put in.
 *
 * Like the report, it counts only sessions that send at least one event: a session with no signal
 * that does not convert sends nothing, so no collector can see it (see `visible`).
 */
export function exactTruth(model: TrafficModel): { conversionRate: number; signals: SignalTruth[] } {
  checkModel(model);
  const k = model.signals.length;
  if (k > 20) throw new Error('model: exact truth enumerates 2^k combinations; keep k <= 20');
  const index = new Map(model.signals.map((signal, i) => [signal.name, i]));
  const has = new Array<boolean>(k).fill(false);
  const mass = new Array<number>(k).fill(0); // P(has signal i, visible)
  const convertedMass = new Array<number>(k).fill(0); // P(has signal i, converts)
  let visibleTotal = 0;
  let convertedTotal = 0;
  for (let combination = 0; combination < 1 << k; combination++) {
    let probability = 1;
    for (let i = 0; i < k; i++) {
      has[i] = (combination & (1 << i)) !== 0;
      const signal = model.signals[i]!;
      const possible = !signal.requires || has[index.get(signal.requires)!];
      probability *= possible ? (has[i] ? signal.probability : 1 - signal.probability) : has[i] ? 0 : 1;
    }
    if (probability === 0) continue;
    const converts = probability * conversionProbability(model, has);
    convertedTotal += converts;
    // No signal: visible only when it converts (the macro event is its one event).
    visibleTotal += combination === 0 ? converts : probability;
    for (let i = 0; i < k; i++) {
      if (has[i]) {
        mass[i]! += probability;
        convertedMass[i]! += converts;
      }
    }
  }
  return {
    conversionRate: convertedTotal / visibleTotal,
    signals: model.signals.map((signal, i) => {
      const rateWith = convertedMass[i]! / mass[i]!;
      const rateWithout = (convertedTotal - convertedMass[i]!) / (visibleTotal - mass[i]!);
      return { signal: signal.name, share: mass[i]! / visibleTotal, rateWith, rateWithout, difference: rateWith - rateWithout };
    }),
  };
}

/** A session as the model draws it: which signals it has, and whether it converts. */
export interface SessionDraw {
  has: boolean[];
  converted: boolean;
}

/** Draws one session from the model. */
export function drawSession(model: TrafficModel, random: Random): SessionDraw {
  const { requires, probability } = compile(model);
  const has: boolean[] = new Array(probability.length);
  for (let i = 0; i < probability.length; i++) {
    const possible = requires[i]! < 0 || has[requires[i]!]!;
    has[i] = possible && random.next() < probability[i]!;
  }
  return { has, converted: random.next() < conversionProbability(model, has) };
}

/** A session is in the data when it sends any event: it has a signal or converts. */
export const visible = (session: SessionDraw): boolean => session.converted || session.has.includes(true);

/** The 2×2 table of each signal from drawn sessions (the visible ones): what the report's SQL must reproduce. */
export function tally(model: TrafficModel, sessions: Iterable<SessionDraw>): SignalCounts[] {
  const k = model.signals.length;
  const withCount = new Array<number>(k).fill(0);
  const convertedWith = new Array<number>(k).fill(0);
  let total = 0;
  let converted = 0;
  for (const session of sessions) {
    if (!visible(session)) continue;
    total++;
    if (session.converted) converted++;
    for (let i = 0; i < k; i++) {
      if (session.has[i]) {
        withCount[i]!++;
        if (session.converted) convertedWith[i]!++;
      }
    }
  }
  return model.signals.map((signal, i) => ({
    signal: signal.name,
    sessionsWith: withCount[i]!,
    convertedWith: convertedWith[i]!,
    sessionsWithout: total - withCount[i]!,
    convertedWithout: converted - convertedWith[i]!,
  }));
}

/** A simulated session: the draw (the truth) and the events it sends, in the batches the SDK would send. */
export interface SimulatedSession extends SessionDraw {
  sessionId: string;
  events: MicroconvEvent[];
  batches: MicroconvEvent[][];
}

export interface TrafficOptions {
  seed: number;
  sessions: number;
  /** Epoch ms of the first session; sessions start over the following `days`. Fixed by default so a seed replays exactly. */
  start?: number;
  days?: number;
  /** Events per request, as the SDK's `batch.size`. Default 10. */
  batchSize?: number;
}

/** 2025-06-02T00:00:00Z: a fixed default start, so the same seed gives byte-identical traffic. */
export const DEFAULT_START = Date.UTC(2025, 5, 2);

const SITE = 'https://tally.example';
const HOME = { path: '/', title: 'Tally · Invoicing that gets freelancers paid' };
const CUSTOMERS = { path: '/customers', title: 'Customer stories · Tally' };

interface Channel {
  utm_source: string | null;
  utm_medium: string | null;
  click: 'gclid' | 'fbclid' | null;
  referrer: string;
}

/** Where sessions come from, by weight: paid search, paid social, e-mail, organic search, direct. */
const CHANNELS: Array<readonly [Channel, number]> = [
  [{ utm_source: 'google', utm_medium: 'cpc', click: 'gclid', referrer: 'https://www.google.com/' }, 30],
  [{ utm_source: 'facebook', utm_medium: 'paid_social', click: 'fbclid', referrer: 'https://m.facebook.com/' }, 15],
  [{ utm_source: 'newsletter', utm_medium: 'email', click: null, referrer: '' }, 10],
  [{ utm_source: null, utm_medium: null, click: null, referrer: 'https://www.google.com/' }, 25],
  [{ utm_source: null, utm_medium: null, click: null, referrer: '' }, 20],
];

function attribution(random: Random): Attribution {
  const channel = random.weighted(CHANNELS);
  const campaign = channel.utm_source ? random.pick(['freelancer_q3', 'brand', 'retargeting']) : null;
  const query = channel.utm_source ? `?utm_source=${channel.utm_source}&utm_medium=${channel.utm_medium}&utm_campaign=${campaign}` : '';
  return {
    utm_source: channel.utm_source,
    utm_medium: channel.utm_medium,
    utm_campaign: campaign,
    utm_term: channel.utm_medium === 'cpc' ? random.pick(['invoicing software', 'freelance invoices']) : null,
    utm_content: channel.utm_medium === 'paid_social' ? random.pick(['video_ad', 'carousel']) : null,
    gclid: channel.click === 'gclid' ? random.token(24) : null,
    fbclid: channel.click === 'fbclid' ? random.token(24) : null,
    // The SDK redacts click ids from URLs; they travel in their own fields.
    landing_page: SITE + '/' + query,
    referrer: channel.referrer,
  };
}

const VIDEO: Params = {
  video_title: 'Product tour',
  video_url: `${SITE}/media/product-tour.webm`,
  video_provider: 'html5',
  video_duration: 12,
};
const FORM: Params = { form_name: 'demo_request', form_id: 'demo-request', step_count: 3 };
const FORM_STEPS = ['contact', 'business', 'needs'];

/** One emitted event before it gets its ids: name, parameters, page, and seconds since the previous one. */
type Step = [name: string, params: Params, page: { path: string; title: string }, gap: number];

/** The events one signal sends on the demo page (several for some: scroll marks, milestones, steps). */
function signalEvents(name: string, random: Random): Step[] {
  const gap = () => 0.5 + random.next() * 7.5;
  switch (name) {
    case 'section_view':
      return random
        .pick([['hero'], ['hero', 'features'], ['hero', 'features', 'pricing'], ['hero', 'features', 'product_tour', 'pricing', 'testimonials']])
        .map((section_name): Step => ['section_view', { section_name }, HOME, gap()]);
    case 'scroll_depth':
      return [25, 50, 75, 90].slice(0, random.int(1, 4)).map((percent_scrolled): Step => ['scroll_depth', { percent_scrolled }, HOME, gap()]);
    case 'video_play':
      return [['video_play', { ...VIDEO, video_current_time: 0 }, HOME, gap()]];
    case 'video_milestone':
      // The tour is 12 s long: milestones 3 s apart.
      return [25, 50, 75]
        .slice(0, random.int(1, 3))
        .map((video_percent): Step => ['video_milestone', { ...VIDEO, video_current_time: (12 * video_percent) / 100, video_percent }, HOME, 3]);
    case 'download_click':
      return [['download_click', { file_name: 'tally-spec-sheet.pdf', file_extension: 'pdf', link_url: `${SITE}/media/tally-spec-sheet.pdf`, link_text: 'Spec sheet (PDF)' }, HOME, gap()]];
    case 'cta_click': {
      const cta_name = random.pick(['start_trial', 'nav_demo', 'nav_pricing', 'choose_pro', 'choose_starter']);
      return [['cta_click', { cta_name, link_text: cta_name === 'nav_pricing' ? 'Pricing' : 'Start free trial', link_url: `${SITE}/#lead`, link_type: 'link' }, HOME, gap()]];
    }
    case 'form_begin':
      return [['form_begin', { ...FORM, step_index: 1, step_name: FORM_STEPS[0]! }, HOME, gap()]];
    case 'form_step':
      // Steps completed before submitting: contact, and sometimes business too.
      return FORM_STEPS.slice(0, random.int(1, 2)).map((step_name, index): Step => ['form_step', { ...FORM, step_index: index + 1, step_name }, HOME, 10 + random.next() * 30]);
    case 'form_abandon':
      return [['form_abandon', { ...FORM, step_index: 2, step_name: 'business', last_field: random.pick(['company', 'volume']) }, HOME, 5 + random.next() * 20]];
    case 'web_vitals':
      return [['web_vitals', { lcp: random.int(900, 4200), inp: random.int(40, 450), cls: Math.round(random.next() * 25) / 100 }, HOME, gap()]];
    default:
      return [[name, {}, HOME, gap()]];
  }
}

/**
 * Generates sessions, in order, with their events and request batches. Everything comes from the seed:
 * ids, times, parameters. Every signal a session has is sent before its macro conversion; converting
 * sessions may go on to the customer stories, sending micro-conversions (and sometimes a second lead)
 * after converting, which the report must not count.
 */
export function* generateTraffic(model: TrafficModel, options: TrafficOptions): Generator<SimulatedSession> {
  checkModel(model);
  const random = mulberry32(options.seed);
  const start = options.start ?? DEFAULT_START;
  const span = (options.days ?? 14) * 86_400_000;
  const batchSize = options.batchSize ?? 10;
  const users: string[] = [];

  for (let n = 0; n < options.sessions; n++) {
    const draw = drawSession(model, random);
    const sessionId = random.uuid();
    // About one session in five is a returning browser; a few have no anonymous id (no storage consent).
    const returning = users.length > 0 && random.chance(0.2);
    const anonymousId = random.chance(0.03) ? null : returning ? random.pick(users) : random.uuid();
    if (anonymousId && !returning && users.length < 5000) users.push(anonymousId);
    const source = attribution(random);
    let ts = start + Math.floor(random.next() * span);
    let previousPath = '';
    const events: MicroconvEvent[] = [];
    const emit = ([name, params, page, gap]: Step) => {
      if (events.length) ts += Math.round(gap * 1000);
      events.push({
        event_id: random.uuid(),
        name,
        ts,
        session_id: sessionId,
        anonymous_id: anonymousId,
        page: { url: SITE + page.path, path: page.path, title: page.title, referrer: previousPath && previousPath !== page.path ? SITE + previousPath : source.referrer },
        params,
        attribution: source,
      });
      previousPath = page.path;
    };

    model.signals.forEach((signal, i) => {
      if (draw.has[i]) signalEvents(signal.name, random).forEach(emit);
    });
    if (draw.converted) {
      const macro = random.weighted(model.macro.map((entry) => [entry.name, entry.weight] as const));
      emit([macro, { form_name: 'demo_request' }, HOME, 1 + random.next() * 20]);
      if (random.chance(model.afterConversion)) {
        // After converting: micro-conversion names again, all later than the first macro event.
        emit(['cta_click', { cta_name: 'stories_back_to_trial', link_text: 'Customer stories', link_url: `${SITE}/customers`, link_type: 'link' }, HOME, 4]);
        emit(['section_view', { section_name: 'customer_stories' }, CUSTOMERS, 2]);
        emit(['scroll_depth', { percent_scrolled: 25 }, CUSTOMERS, 3]);
        if (random.chance(0.2)) emit([macro, { form_name: 'demo_request' }, HOME, 30]);
      }
    }
    yield { ...draw, sessionId, events, batches: batchLikeTheSdk(events, batchSize) };
  }
}

/** The SDK's endpoint batching (contract 4): a batch leaves at `size` events or 5 s after its first event; the last on page hide. */
function batchLikeTheSdk(events: MicroconvEvent[], size: number, intervalMs = 5000): MicroconvEvent[][] {
  const batches: MicroconvEvent[][] = [];
  let current: MicroconvEvent[] = [];
  for (const event of events) {
    if (current.length && (current.length >= size || event.ts - current[0]!.ts >= intervalMs)) {
      batches.push(current);
      current = [];
    }
    current.push(event);
  }
  if (current.length) batches.push(current);
  return batches;
}
