// Builds what the bench serves besides dist/microconv.js: each peer's published npm package bundled into
// one minified script-tag file (as a site would ship it), the floor reference minified alike, and, for
// `--profile`, an unminified microconv.js whose function names a CPU profile can show.
// Into bench/.build/, from bench/node_modules (installed by bench/package.json, not by the SDK).
import commonjs from '@rollup/plugin-commonjs';
import nodeResolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { rollup } from 'rollup';

const here = new URL('.', import.meta.url).pathname;
const out = here + '.build/';

async function bundle(input, file, plugins = [], minify = true) {
  const build = await rollup({ input, plugins: [nodeResolve({ browser: true, extensions: ['.mjs', '.js', '.ts'] }), commonjs(), ...plugins], onwarn: () => {} });
  // The profiled microconv keeps its lazy parts inline (one file whose function names a profile shows);
  // the measured one fetches them from dist/, as a site's would.
  // The profiled microconv starts with V8's compile hint, as dist/microconv.js does: without it each
  // function would compile as it first runs, and the profile would charge that to the function.
  const banner = minify ? undefined : '//# allFunctionsCalledOnLoad';
  await build.write({ file: out + file, format: 'iife', inlineDynamicImports: true, banner, plugins: minify ? [terser({ ecma: 2020, format: { comments: false } })] : [] });
  await build.close();
}

export async function buildPeers({ profile = false } = {}) {
  await Promise.all([
    bundle(here + 'peers/floor.js', 'floor.js'),
    bundle(here + 'peers/floor-durable.js', 'floor-durable.js'),
    bundle(here + 'peers/plausible.mjs', 'plausible.js'),
    bundle(here + 'peers/snowplow.mjs', 'snowplow.js'),
    bundle(here + 'peers/snowplow-full.mjs', 'snowplow-full.js'),
  ]);
  if (profile) {
    process.chdir(here + '..'); // the TypeScript plugin resolves its globs from the working directory
    const ts = typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts'], noEmitOnError: false, compilerOptions: { noEmit: false } });
    await bundle(here + '../src/script.ts', 'microconv.profile.js', [ts], false);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildPeers({ profile: process.argv.includes('--profile') });
