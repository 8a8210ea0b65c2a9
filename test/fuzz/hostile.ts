/**
 * What the fuzz tests share: hostile values (fast-check arbitraries) with what microconv must make of
 * each, and a ledger that watches one instance (what each adapter was handed, every delivery report, log
 * line and counted drop) and checks that nothing was lost without being counted.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Adapter, DeliveryReport, Instance, LogEntry, MicroconvEvent, Options } from '../../src/types';

/**
 * A fixed seed and a bounded number of runs, so `npm test` is deterministic and quick. A longer hunt:
 * `FUZZ_RUNS=20 FUZZ_SEED=$RANDOM npx vitest run test/fuzz` (runs are multiplied by FUZZ_RUNS); a failure prints
 * its seed and path, and FUZZ_PATH replays it.
 */
export const fuzz = (numRuns: number): fc.Parameters<unknown> => ({
  seed: Number(process.env.FUZZ_SEED || 1011),
  numRuns: numRuns * RUNS,
  // A counterexample's path, to replay it alone: FUZZ_SEED=… FUZZ_PATH=… npx vitest run test/fuzz/<file>.
  path: process.env.FUZZ_PATH,
});
const RUNS = Number(process.env.FUZZ_RUNS) || 1;

/** The time a property test may take: about 10 times what it needs on a quiet machine. */
export const timeout = (seconds: number) => seconds * 1000 * RUNS;

/** Shows a generated case by its description in a counterexample (its values may be Proxies, or huge). */
export const described = <T extends { what: string }>(item: T): T => Object.assign(item, { [fc.toStringMethod]: () => item.what });

/** What JSON, and then a UTF-8 encoder, make of a string: half a surrogate pair becomes U+FFFD. */
export const wellFormed = (text: string): string => text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
export const isWellFormed = (text: string) => wellFormed(text) === text;

// ---------------------------------------------------------------------------------------------------------
// Text

/** Characters that break naive code: bidi controls, zero-width, noncharacters, astral, lone surrogates, markup. */
export const ODD = [
  '\u200f', '\u200e', '\u202e', '\u2066', '\u200b', '\u200d', '\ufeff', '\u00ad', '\ufffe', '\uffff', '\ufdd0',
  '\u{10ffff}', '\u{1f600}', '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', 'e\u0301', '\u0000', '\u0085', '\u2028',
  '\u2029', '\ud800', '\udfff', '\udbff', '\udc00', '<script>alert(1)</script>', '"', "'", '\\', '&amp;', '%',
  '%ED%A0%80', '%40', 'jane@example.com', '+1 555 123 4567', '${x}', '{{x}}', '\r\n', '\t', ' ', '__proto__',
];

/** A short string of odd characters. */
export const oddText = fc
  .array(fc.oneof(fc.constantFrom(...ODD), fc.string({ unit: 'binary', maxLength: 4 }), fc.string({ maxLength: 6 })), { maxLength: 8 })
  .map((parts) => parts.join(''));

/** The same, without lone surrogates (where well-formed text is what is being tested). */
export const oddWellFormedText = oddText.map(wellFormed);

/** Longer than an event may be (32 KiB), in ASCII or astral characters. */
export const hugeText = fc.oneof(
  fc.integer({ min: 40_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 12_000, max: 20_000 }).map((n) => '\u{1f600}'.repeat(n)),
);

// ---------------------------------------------------------------------------------------------------------
// Parameters of track(): values microconv must take (with what it makes of them) and values it must refuse

/**
 * A value for a test, made fresh at each call (so no run sees another's mutations, and fast-check never
 * has to print a Proxy), and what microconv must hand the adapters for it.
 */
export interface Built {
  make(): unknown;
  /** `OMIT`: left out, as JSON leaves out `undefined`. */
  expected: unknown;
  what: string;
}
export const OMIT = Symbol('omit');

/** A data property, also where assignment would not make one (`__proto__`) or would call a setter. */
export const define = <T extends object>(target: T, key: string, value: unknown): T => Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

/** Keys that code which looks things up in plain objects trips over. */
const trickyKey = fc.constantFrom('constructor', 'toString', 'valueOf', 'hasOwnProperty', 'then', 'prototype', 'length', 'toJSON', '0', '', 'event', 'event_id', 'send_to', 'name');
const key = fc.oneof(trickyKey, oddWellFormedText.filter((text) => text !== '__proto__'));

const constant = (what: string, make: () => unknown, expected: unknown): fc.Arbitrary<Built> => fc.constant({ what, make, expected });
const leaf: fc.Arbitrary<Built> = fc.oneof(
  oddText.map((text) => ({ what: 'text', make: () => text, expected: wellFormed(text) })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ what: 'number', make: () => n, expected: n === 0 ? 0 : n })),
  fc.boolean().map((b) => ({ what: 'boolean', make: () => b, expected: b })),
  constant('null', () => null, null),
  constant('undefined', () => undefined, OMIT),
  fc.date({ noInvalidDate: true }).map((date) => ({ what: 'date', make: () => new Date(date), expected: date.toISOString() })),
  constant('invalid date', () => new Date(NaN), null),
  // A toJSON that is not a function is just data.
  constant('toJSON as data', () => ({ toJSON: 'data' }), { toJSON: 'data' }),
);

/** An object of `entries`, with or without a prototype, and its JSON image. */
const objectOf = (entries: [string, Built][], bare = false): Built => {
  const expected: Record<string, unknown> = {};
  for (const [name, child] of entries) {
    if (child.expected === OMIT) delete expected[name];
    else define(expected, name, child.expected);
  }
  return {
    what: bare ? 'null-prototype object' : 'object',
    make: () => entries.reduce((object, [name, child]) => define(object, name, child.make()), bare ? Object.create(null) : {}),
    expected,
  };
};

/** JSON data of odd strings, numbers, dates, null-prototype objects and tricky keys, with its JSON image. */
export const goodValue: fc.Arbitrary<Built> = fc.letrec<{ value: Built; object: Built; array: Built }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array')),
  object: fc.tuple(fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }), fc.boolean()).map(([entries, bare]) => objectOf(entries, bare)),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => ({
    what: 'array',
    make: () => items.map((item) => item.make()),
    expected: items.map((item) => (item.expected === OMIT ? null : item.expected)),
  })),
})).value;

/** Plain-object params that microconv must take. */
export const goodParams: fc.Arbitrary<Built> = fc.array(fc.tuple(key, goodValue), { maxLength: 6 }).map((entries) => objectOf(entries));

const thrower = (thrown: () => unknown) =>
  function () {
    throw thrown();
  };

/** What a getter or a trap may throw: not always an Error, and not always something that can be printed. */
export const thrown = fc.constantFrom<[string, () => unknown]>(
  ['an Error', () => new Error('getter says no')],
  ['a string', () => 'getter says no'],
  ['a null-prototype object', () => Object.create(null)],
  ['a symbol', () => Symbol('no')],
  ['a Proxy that throws', () => new Proxy({}, { get: thrower(() => new Error('trap')) })],
  ['an object whose toString throws', () => ({ toString: thrower(() => new Error('toString')) })],
  ['undefined', () => undefined],
);

/** An object whose property `key` throws when read. */
export const throwingGetter = (key: string, make: () => unknown) => Object.defineProperty({}, key, { get: thrower(make), enumerable: true });

/** A value that cannot be sent: a function, a DOM node, a class instance, an unreadable object... */
export const poison: fc.Arbitrary<[string, () => unknown]> = fc.oneof(
  fc.constantFrom<[string, () => unknown]>(
    ['a function', () => () => 1],
    ['an async function', () => async () => 1],
    ['a class', () => class Thing {}],
    ['a symbol', () => Symbol('s')],
    ['a BigInt', () => 10n ** 20n],
    ['NaN', () => NaN],
    ['Infinity', () => Infinity],
    ['-Infinity', () => -Infinity],
    ['a DOM element', () => document.createElement('div')],
    ['a text node', () => document.createTextNode('t')],
    ['the document', () => document],
    ['the window', () => window],
    ['a class instance', () => new (class Point { x = 1; y = 2 })()],
    ['a Map', () => new Map([[1, 2]])],
    ['a Set', () => new Set([1])],
    ['a RegExp', () => /x/g],
    ['an Error', () => new Error('e')],
    ['a typed array', () => new Uint8Array(4)],
    ['a promise', () => Promise.resolve(1)],
    ['a boxed string', () => new String('s')],
    ['a boxed number', () => new Number(1)],
    ['a WeakMap', () => new WeakMap()],
    ['a Proxy whose ownKeys throws', () => new Proxy({ a: 1 }, { ownKeys: thrower(() => new Error('ownKeys')) })],
    ['a Proxy whose get throws', () => new Proxy({ a: 1 }, { get: thrower(() => new Error('get')) })],
    ['a Proxy whose getPrototypeOf throws', () => new Proxy({}, { getPrototypeOf: thrower(() => new Error('getPrototypeOf')) })],
    [
      'a revoked Proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    ],
    ['an object with its own toJSON', () => ({ toJSON: () => 'sneaky' })],
    ['an own __proto__ key', () => define({}, '__proto__', { polluted: true })],
    ['a key that is half an emoji', () => define({}, 'a\ud83d', 1)],
    ['nesting 40 deep', () => nest(40)],
    ['nesting 5000 deep', () => nest(5000)],
  ),
  thrown.map(([what, make]): [string, () => unknown] => [`a getter that throws ${what}`, () => throwingGetter('boom', make)]),
  hugeText.map((text): [string, () => unknown] => [`${text.length} characters`, () => text]),
);

const nest = (depth: number) => {
  let inner: unknown = 'bottom';
  for (let level = 0; level < depth; level++) inner = level % 2 ? [inner] : { deeper: inner };
  return inner;
};

const CYCLE = Symbol('cycle');
/**
 * Params with one poison somewhere inside (or a cycle back to the top), which microconv must refuse
 * with a clear error; `what` says which.
 */
export const badParams: fc.Arbitrary<Built> = fc
  .tuple(goodParams, fc.oneof(poison, fc.constant<[string, () => unknown]>(['a cycle', () => CYCLE])), fc.array(fc.constantFrom('object', 'array'), { maxLength: 3 }), key)
  .map(([good, [what, make], path, at]) => ({
    what: `${what} under ${JSON.stringify(at)} (${path.join(' ') || 'top'})`,
    expected: undefined,
    make() {
      const root = good.make() as object;
      const bad = make();
      let inner: unknown = bad === CYCLE ? root : bad;
      for (const container of path) inner = container === 'array' ? [0, inner] : define({}, 'x', inner);
      return define(root, at, inner);
    },
  }));

/** Params that are not an object at all. */
export const notAnObject: fc.Arbitrary<Built> = fc.oneof(
  poison.map(([what, make]) => ({ what, make, expected: undefined })),
  fc.constantFrom<[string, unknown]>(['null', null], ['an array', [1, 2]], ['a string', 'params'], ['a number', 42], ['true', true]).map(([what, value]) => ({ what, make: () => value, expected: undefined })),
);

// ---------------------------------------------------------------------------------------------------------
// Event names

export const goodName = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_]{0,39}$/),
  fc.constantFrom('constructor', 'then', 'purchase', 'cta_click', 'page_view', 'x'.repeat(40), 'hasownproperty', 'valueof', 'tostring'),
);

/** Names that must be refused, made fresh at each call. */
export const badName: fc.Arbitrary<{ what: string; make(): unknown }> = fc.oneof(
  oddText.filter((text) => !/^[a-z][a-z0-9_]{0,39}$/.test(text)).map((text) => ({ what: 'odd text', make: () => text })),
  fc
    .constantFrom<[string, () => unknown]>(
      ['empty', () => ''], ['41 characters', () => 'x'.repeat(41)], ['capitals', () => 'Cta'], ['a digit first', () => '1a'], ['an underscore first', () => '_a'],
      ['a dash', () => 'a-b'], ['a space', () => 'a b'], ['a newline', () => 'purchase\n'], ['an accent', () => 'caf\u00e9'], ['__proto__', () => '__proto__'],
      ['toString', () => 'toString'], ['null', () => null], ['undefined', () => undefined], ['a number', () => 42], ['true', () => true],
      ['a boxed string', () => new String('ok')], ['the body', () => document.body], ['an array', () => ['ok']],
    )
    .map(([what, make]) => ({ what, make })),
  poison.map(([what, make]) => ({ what, make })).filter(({ what }) => !/characters/.test(what)),
  thrown.map(([what, make]) => ({ what: `an object whose toString throws ${what}`, make: () => ({ toString: thrower(make) }) })),
);

// ---------------------------------------------------------------------------------------------------------
// The ledger

/** An adapter that records what it is handed and always takes it. */
export function recorder(name = 'rec'): Adapter & { received: MicroconvEvent[] } {
  const received: MicroconvEvent[] = [];
  return { name, received, send: (events) => void received.push(...events) };
}

export interface Ledger {
  instance: Instance<any>;
  reports: DeliveryReport[];
  logs: LogEntry[];
  emitted: MicroconvEvent[];
  /** Refusals the npm API threw: TypeErrors whose message starts with `microconv:`. */
  thrown: TypeError[];
}

/** Watches an instance from its start: delivery reports, log lines, emitted events. */
export function watch(instance: Instance<any>): Ledger {
  const ledger: Ledger = { instance, reports: [], logs: [], emitted: [], thrown: [] };
  instance.on('delivery', (report) => ledger.reports.push(report));
  instance.on('log', (entry) => ledger.logs.push(entry));
  instance.on('event', (event) => ledger.emitted.push(event));
  return ledger;
}

/**
 * Calls `fn` as a page would; the only exception allowed out is a refusal of the npm API, a `TypeError`
 * whose message starts with `microconv:` (recorded). Anything else fails the test.
 */
export function call<T>(ledger: Ledger, fn: () => T, npm: boolean): T | undefined {
  try {
    return fn();
  } catch (error) {
    expect(npm, `the script-tag API threw ${String(error)}`).toBe(true);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^microconv: /);
    ledger.thrown.push(error as TypeError);
  }
}

/**
 * After a flush: every event emitted reached a final state at every adapter (sent, or dropped or failed
 * with a reason), what was sent is what the adapter was handed, nothing waits, and every drop is counted
 * in `stats().dropped` under its reason, with the refusals of bad input under `invalid`.
 */
export function expectNothingLostSilently(ledger: Ledger, adapters: { name: string; handed(): string[] }[], refusals: number): void {
  const ids = ledger.emitted.map((event) => event.event_id).sort();
  const counted: Record<string, number> = {};
  for (const { name, handed } of adapters) {
    const final = ledger.reports.filter((report) => report.adapter === name && ['sent', 'dropped', 'failed'].includes(report.status));
    const settled = final.flatMap((report) => report.event_ids).sort();
    expect(settled, `every event settles once at ${name}`).toEqual(ids);
    const sent = final.filter((report) => report.status === 'sent').flatMap((report) => report.event_ids);
    expect([...handed()].sort(), `what ${name} was handed is what it reported sent`).toEqual([...sent].sort());
    for (const report of final) {
      if (report.status === 'sent') continue;
      expect(report.reason, `a drop at ${name} has a reason`).toEqual(expect.any(String));
      counted[report.reason!] = (counted[report.reason!] || 0) + report.event_ids.length;
    }
  }
  const { dropped, waiting } = ledger.instance.stats();
  expect(Object.values(waiting).every((count) => count === 0), `nothing waits: ${JSON.stringify(waiting)}`).toBe(true);
  for (const [reason, count] of Object.entries(counted)) expect(dropped[reason], `drops counted as ${reason}`).toBeGreaterThanOrEqual(count);
  expect(dropped.invalid || 0, 'refusals of bad input counted as invalid').toBe(refusals);
}

/** Unhandled promise rejections, from the moment this is called until `stop()`. */
export function watchRejections(): { rejections: unknown[]; stop(): void } {
  const rejections: unknown[] = [];
  const listener = (reason: unknown) => void rejections.push(reason);
  process.on('unhandledRejection', listener);
  return { rejections, stop: () => void process.off('unhandledRejection', listener) };
}

/** One turn of the event loop: long enough for Node to report a rejection left unhandled. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Options that keep a fuzz run to `track` alone: no DOM trackers, a batch that waits for flush(). */
export const quiet: Options = { trackers: { cta: false, downloads: false, sections: false, scroll: false, forms: false, video: false, spa: false }, batch: { size: 1000, intervalMs: 3_600_000 } };
