// `npm run size:shares [-- file]`: where a script-tag file's bytes go, by source file and by what the
// contract asks of them. The file is built as `npm run build` builds it, with a source map; each
// minified byte belongs to the source file its mapping names. "brotli if removed" is what the file
// would lose in brotli bytes without that source's bytes (the rest compressed alone): what cutting it
// would save. These do not add up to the whole, since brotli shares repeated shapes between sources.
// By area, the last column is what the file would weigh with that area and the ones above it removed.
import { loadConfigFile } from 'rollup/loadConfigFile';
import { rollup } from 'rollup';
import { brotliCompressSync, constants } from 'node:zlib';

const target = process.argv[2] || 'microconv.js';

/** What each source file is for; a file no area names counts as 'other'. */
const AREAS = [
  ['delivery (contract 4)', /core\/(journal|send|outbox|delivery|locks|leaving|backoff)\.ts|idb-keyval/],
  ['checks of options and input (contract 3)', /core\/options\.ts|lib\/validate\.ts/],
  ['instance and script-tag way in', /core\/(instance|bootstrap|lifecycle|explain-later|errors)\.ts|src\/script\.ts/],
  ['trackers (clicks, sections, scroll)', /trackers\//],
  ['events: ids, session, page, redaction', /lib\/(ids|uuid|context|redact|cut|json)\.ts|core\/(session|events|consent)\.ts/],
  ['DOM plumbing, SPA routes', /core\/(dom|trackers|routes)\.ts/],
  ['endpoint adapter (contract 5)', /adapters\/endpoint\.ts/],
  ['registry, part descriptors, loader', /core\/(registry|loader|overlay)\.ts|src\/parts\.ts|adapters\//],
];
const areaOf = (source) => AREAS.find(([, pattern]) => pattern.test(source))?.[0] || 'other';

const brotli = (text) =>
  brotliCompressSync(Buffer.from(text), { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: text.length } }).length;

/** Source map mappings: [generated line, generated column, source index] of each segment. */
function segments(mappings) {
  const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out = [];
  let source = 0;
  mappings.split(';').forEach((line, lineIndex) => {
    let column = 0;
    for (const segment of line.split(',').filter(Boolean)) {
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = DIGITS.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else fields.push(value & 1 ? -(value >>> 1) : value >>> 1), (value = 0), (shift = 0);
      }
      column += fields[0];
      if (fields.length > 1) source += fields[1];
      out.push([lineIndex, column, fields.length > 1 ? source : -1]);
    }
  });
  return out;
}

const { options } = await loadConfigFile(new URL('../rollup.config.ts', import.meta.url).pathname, { configPlugin: 'typescript' });
const config = options.find((o) => [o.output].flat().some((out) => out.file === `dist/${target}`));
if (!config) throw new Error(`no build makes dist/${target}`);
const bundle = await rollup(config);
const { output } = await bundle.generate({ ...[config.output].flat()[0], sourcemap: true, file: undefined });
const { map } = output[0];
// The same bytes as dist/ holds: without the pointer to a map that is never shipped.
const code = output[0].code.replace(/\/\/# sourceMappingURL=.*\n?$/, '');
const lines = code.split('\n');

// Each segment runs to the next one on its line; a segment with no source (glue) counts as 'other'.
const owner = lines.map((line) => new Array(line.length).fill('other'));
const list = segments(map.mappings);
list.forEach(([line, column, source], i) => {
  const next = list[i + 1];
  const end = next && next[0] === line ? next[1] : lines[line].length;
  const name = source < 0 ? 'other' : map.sources[source].replace(/^.*?\/(src|node_modules)\//, '$1/');
  owner[line].fill(name, column, end);
});

const whole = brotli(code);
const without = (keep) => lines.map((line, l) => line.split('').filter((_, c) => keep(owner[l][c])).join('')).join('\n');
const minified = new Map();
owner.flat().forEach((name) => minified.set(name, (minified.get(name) || 0) + 1));

console.log(`dist/${target}: ${code.length} bytes minified, ${whole} brotli\n`);
const rows = [...minified].map(([name, bytes]) => [name, bytes, whole - brotli(without((other) => other !== name))]).sort((a, b) => b[2] - a[2]);
const pad = (cells) => cells.map((cell, i) => (i ? String(cell).padStart([0, 10, 20, 24][i]) : String(cell).padEnd(44))).join('');
console.log(pad(['source', 'minified', 'brotli if removed']));
for (const row of rows) console.log(pad(row));

console.log('\n' + pad(['what it is for', 'minified', 'brotli if removed', 'left with those above']));
const gone = new Set();
for (const [area] of [...AREAS, ['other']]) {
  const members = rows.filter(([name]) => areaOf(name) === area);
  const names = new Set(members.map(([name]) => name));
  const bytes = members.reduce((sum, [, b]) => sum + b, 0);
  names.forEach((name) => gone.add(name));
  console.log(pad([area, bytes, whole - brotli(without((name) => !names.has(name))), brotli(without((name) => !gone.has(name)))]));
}
