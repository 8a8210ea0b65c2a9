// Attribute microconv.js's minified bytes to source files (via a source map), then estimate brotli share.
import { loadConfigFile } from 'rollup/loadConfigFile';
import { rollup } from 'rollup';
import { SourceMapConsumer } from 'source-map-js';
import { brotliCompressSync } from 'node:zlib';
process.chdir('/work/main');
const { options } = await loadConfigFile('/work/main/rollup.config.ts', { configPlugin: 'typescript' });
const target = process.argv[2] || 'microconv.js';
const config = options.find((o) => [o.output].flat().some((out) => out.file === `dist/${target}`));
const bundle = await rollup(config);
const outOpts = { ...[config.output].flat()[0], sourcemap: true, file: undefined };
const { output } = await bundle.generate(outOpts);
const { code, map } = output[0];
const smc = new SourceMapConsumer(map);
const lines = code.split('\n');
const per = new Map();
lines.forEach((line, li) => {
  let last = null, lastCol = 0;
  const mappings = [];
  smc.eachMapping((m) => { if (m.generatedLine === li + 1) mappings.push(m); });
  mappings.sort((a, b) => a.generatedColumn - b.generatedColumn);
  for (let i = 0; i < mappings.length; i++) {
    const m = mappings[i], end = i + 1 < mappings.length ? mappings[i + 1].generatedColumn : line.length;
    const src = (m.source || '?').replace(/.*\/(src|node_modules)\//, '$1/');
    const piece = line.slice(m.generatedColumn, end);
    const e = per.get(src) || { bytes: 0, text: '' };
    e.bytes += piece.length; e.text += piece; per.set(src, e);
  }
});
const total = brotliCompressSync(code).length;
console.log('total min', code.length, 'brotli', total);
const rows = [...per].map(([src, e]) => [src, e.bytes, brotliCompressSync(e.text).length]).sort((a, b) => b[1] - a[1]);
const sumBr = rows.reduce((s, r) => s + r[2], 0);
for (const [src, bytes, br] of rows) console.log(String(bytes).padStart(6), String(Math.round(br * total / sumBr)).padStart(6), src);
