import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Plugin, RollupOptions } from 'rollup';
import { dts } from 'rollup-plugin-dts';

// Type-checking is `npm run typecheck`'s job; here TypeScript only strips types.
const ts = () => typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts'], noEmitOnError: false, compilerOptions: { noEmit: false } });

// The script-tag files are minified hard: internals are closures, so names mangle freely, and the
// few `_`-prefixed properties are ours alone. `passes: 3` wins a few hundred bytes on this code.
const minify = () =>
  terser({
    ecma: 2020,
    compress: { passes: 3, pure_getters: true, unsafe_arrows: true },
    mangle: { properties: { regex: /^_/ } },
    // V8's compile hint: compile every function while the file is parsed off the main thread, instead of
    // lazily on it as each first runs. Nearly all of them run at load or once the page is idle.
    format: { comments: false, preamble: '//# allFunctionsCalledOnLoad' },
  });

/**
 * npm: ESM and CJS, readable (the app's bundler minifies), dependencies left as imports. No source maps
 * here or for the script tag: see the README's "What the npm package contains".
 */
const npm = (input: string, name: string): RollupOptions => ({
  input,
  external: ['idb-keyval', 'web-vitals'],
  plugins: [ts()],
  // The parts that the script tag fetches lazily are bundled here: an app's bundler decides what it keeps.
  output: [
    { file: `dist/${name}.mjs`, format: 'es', inlineDynamicImports: true },
    { file: `dist/${name}.cjs`, format: 'cjs', exports: 'named', inlineDynamicImports: true },
  ],
});

/** One `.d.ts` per npm entry, and a `.d.cts` twin so `require` users get types that say CommonJS. */
const types = (input: string, name: string): RollupOptions => ({
  input,
  plugins: [dts({ tsconfig: './tsconfig.json' })],
  output: [
    { file: `dist/${name}.d.ts`, format: 'es' },
    { file: `dist/${name}.d.cts`, format: 'es' },
  ],
});

/** A script-tag file: one self-contained, minified IIFE. */
const browser = (input: string, file: string, plugins: Plugin[] = []): RollupOptions => ({
  input,
  plugins: [nodeResolve({ browser: true }), ts(), ...plugins],
  output: { file: `dist/${file}`, format: 'iife', plugins: [minify()] },
});

/**
 * The script tag's lazy parts, read from the registry (src/parts.ts) and from the core's own lazy
 * import (identify()'s hashing, in src/lib/ids.ts): each line that says
 * `import('./dir/name').then((module) => module.exported)` becomes its own file, `microconv-name.js`.
 * So adding a part is one line there, and no line here.
 */
const LAZY_FROM = ['src/parts.ts', 'src/lib/ids.ts'].map((file) => resolve(file));
const LAZY = /import\('\.\/([\w/-]+)'\)\.then\(\((\w+)\) => \2\.(\w+)\)/g;
const lazyParts = LAZY_FROM.flatMap((from) =>
  [...readFileSync(from, 'utf8').matchAll(LAZY)].map(([, path, , exported]) => ({ file: resolve(dirname(from), path! + '.ts'), exported: exported!, name: path!.split('/').pop()! })),
);
if (new Set(lazyParts.map((part) => part.name)).size !== lazyParts.length) throw new Error('two lazy parts share a file name');

/**
 * In `microconv.js`, each lazy `import()`, with the export it picks, becomes a fetch of that part's file
 * through the loader, which resolves to that export (the file brings it alone).
 */
const fetchLazyParts = (): Plugin => ({
  name: 'microconv-lazy-parts',
  transform(code, id) {
    if (!LAZY_FROM.includes(id)) return null;
    const rewritten = code.replace(/import\('\.\/(?:[\w-]+\/)*([\w-]+)'\)\.then\(\((\w+)\) => \2\.\w+\)/g, (_, name) => `loadPart(${JSON.stringify(name)})`);
    const unread = /import\(/.test(rewritten) || [...rewritten.matchAll(/loadPart\("([\w-]+)"\)/g)].some(([, name]) => !lazyParts.some((part) => part.name === name));
    if (unread) this.error('a lazy part whose line the build cannot read: write it as the others are');
    return { code: `import { loadPart } from ${JSON.stringify(resolve('src/core/loader.ts'))};\n${rewritten}`, map: null };
  },
});

/**
 * The words of refusals are a lazy part too (`microconv-errors.js`), fetched on the first error: in
 * `microconv.js`, `explain-later.ts` takes the place of `explain.ts`, which bundles them.
 */
const errorsPart = { file: resolve('src/core/errors.ts'), exported: 'word', name: 'errors' };
const EXPLAIN = resolve('src/core/explain.ts');
const explainLater = (): Plugin => {
  let swapped = false;
  return {
    name: 'microconv-explain-later',
    // First: node-resolve would otherwise find `explain.ts` before this plugin is asked.
    resolveId: {
      order: 'pre',
      async handler(source, importer, options) {
        const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
        return resolved?.id === EXPLAIN ? ((swapped = true), resolve('src/core/explain-later.ts')) : null;
      },
    },
    // Without the swap, microconv.js would carry the words it is meant to fetch.
    buildEnd(error) {
      if (!error && !swapped) this.error('microconv.js: explain.ts was not swapped for explain-later.ts');
    },
  };
};
if (lazyParts.some((part) => part.name === errorsPart.name)) throw new Error('src/parts.ts: a lazy part takes the name of microconv-errors.js');

/** `microconv-<name>.js`: the part's code, its one export handed to the loader of `microconv.js` (see `loadPart`). */
const partFile = ({ file, exported, name }: (typeof lazyParts)[number]): RollupOptions =>
  browser(`\0microconv-part:${name}`, `microconv-${name}.js`, [
    {
      name: 'microconv-part-entry',
      resolveId: (id) => (id === `\0microconv-part:${name}` ? id : null),
      load: (id) =>
        id === `\0microconv-part:${name}`
          ? `import { ${exported} } from ${JSON.stringify(file)};\n(window.microconvParts = window.microconvParts || {})[${JSON.stringify(name)}] = ${exported};`
          : null,
    },
  ]);

/**
 * The Node side (reference collector, report, simulator, demo server): each `collector/bin/*.ts` and
 * `demo/*.ts` becomes `build/<name>.mjs`, run by the npm scripts. Dependencies stay imports.
 */
const nodeEntries = ['collector/bin', 'demo'].flatMap((dir) =>
  existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.ts')).map((file) => `${dir}/${file}`) : [],
);
const node = (): RollupOptions[] =>
  nodeEntries.length
    ? [
        {
          input: Object.fromEntries(nodeEntries.map((file) => [file.split('/').pop()!.replace(/\.ts$/, ''), file])),
          external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'),
          plugins: [typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts', 'collector/**/*.ts', 'demo/**/*.ts'], noEmitOnError: false, compilerOptions: { noEmit: false } })],
          output: { dir: 'build', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs' },
        },
      ]
    : [];

const all: RollupOptions[] = [
  npm('src/index.ts', 'microconv'),
  npm('src/bare.ts', 'core'),
  npm('src/debug.ts', 'debug'),
  npm('src/vitals.ts', 'vitals'),
  types('src/index.ts', 'microconv'),
  types('src/bare.ts', 'core'),
  types('src/debug.ts', 'debug'),
  types('src/vitals.ts', 'vitals'),
  browser('src/script.ts', 'microconv.js', [fetchLazyParts(), explainLater()]),
  ...[...lazyParts, errorsPart].map(partFile),
  browser('src/vitals-script.ts', 'microconv-vitals.js'),
  browser('src/debug-script.ts', 'microconv-debug.js'),
  ...node(),
] satisfies RollupOptions[];

// `BUILD=browser` builds the script-tag files alone (what the e2e pages load), for a quicker round.
export default process.env.BUILD === 'browser' ? all.filter((options) => !Array.isArray(options.output) && (options.output as { format?: string })?.format === 'iife') : all;
