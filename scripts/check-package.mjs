// `npm run check:package`: packs microconv exactly as `npm publish` would, and checks that tarball (not the
// working tree, which has files the tarball leaves out): what it contains, against an allow-list and the
// README's list; its types with @arethetypeswrong/cli in every TypeScript resolution mode (node10, node16
// from CJS and from ESM, bundler) for every entry; its package.json with publint, warnings and
// suggestions included. Any problem fails the run. Both tools work on the local tarball, offline.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/** What may ship: the npm entries and their types, the script-tag files, the node10 proxies, the notices. */
const ALLOWED = /^(package\.json|README\.md|LICENSE|(core|debug|vitals)\/package\.json|dist\/[a-z-]+\.(mjs|cjs|js|d\.ts|d\.cts))$/;
/** What must ship even though package.json does not point at it (publint checks the files it points at). */
const REQUIRED = ['LICENSE', 'README.md', 'dist/microconv.js', 'dist/microconv-debug.js', 'dist/microconv-vitals.js'];
/** The README lists the tarball's files in a table between these two markers. */
const README_LIST = /<!-- package-contents -->([\s\S]*?)<!-- \/package-contents -->/;

const root = fileURLToPath(new URL('..', import.meta.url));
const onWindows = process.platform === 'win32';
const problems = [];

function pack(destination) {
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: onWindows,
  });
  const [result] = JSON.parse(output);
  return { ...result, tarball: join(destination, result.filename) };
}

function printContents({ files, size, unpackedSize }) {
  const width = Math.max(...files.map((file) => file.path.length));
  console.log('Tarball contents (bytes):');
  for (const file of files) console.log(`  ${file.path.padEnd(width)}  ${String(file.size).padStart(7)}`);
  console.log(`  ${files.length} files, ${unpackedSize} bytes unpacked, ${size} bytes packed\n`);
}

function checkContents(paths) {
  for (const path of paths) if (!ALLOWED.test(path)) problems.push(`contents: ${path} is not meant to ship`);
  for (const path of REQUIRED) if (!paths.includes(path)) problems.push(`contents: ${path} is missing`);
  const list = readFileSync(join(root, 'README.md'), 'utf8').match(README_LIST);
  if (!list) return problems.push('README: no <!-- package-contents --> list');
  // Every `path` in a row's first cell (a row may name several files).
  const firstCells = [...list[1].matchAll(/^\|([^|]*)\|/gm)].map((match) => match[1]);
  const listed = firstCells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]));
  for (const path of paths) if (!listed.includes(path)) problems.push(`README: ${path} ships but is not listed`);
  for (const path of listed) if (!paths.includes(path)) problems.push(`README: ${path} is listed but does not ship`);
}

function runAttw(tarball) {
  console.log('@arethetypeswrong/cli:');
  // No @types lookup: microconv ships its own types, and the check must not need the registry.
  const colour = process.stdout.isTTY ? [] : ['--no-color'];
  const attw = spawnSync('attw', [tarball, '--no-definitely-typed', '--format', 'table-flipped', ...colour], {
    stdio: 'inherit',
    shell: onWindows,
    env: { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}` },
  });
  if (attw.status !== 0) problems.push(`attw: exit ${attw.status ?? attw.error}`);
}

async function runPublint(tarball) {
  const data = readFileSync(tarball);
  const tarballBuffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: tarballBuffer }, level: 'suggestion', strict: true });
  console.log(`publint: ${messages.length ? '' : 'no errors, warnings or suggestions'}`);
  for (const message of messages) {
    const text = `${message.type}: ${formatMessage(message, pkg, { color: false })}`;
    console.log(`  ${text}`);
    problems.push(`publint ${text}`);
  }
}

const destination = mkdtempSync(join(tmpdir(), 'microconv-pack-'));
try {
  const packed = pack(destination);
  printContents(packed);
  checkContents(packed.files.map((file) => file.path));
  runAttw(packed.tarball);
  await runPublint(packed.tarball);
} finally {
  rmSync(destination, { recursive: true, force: true });
}

if (problems.length) {
  console.error(`\ncheck:package failed:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  process.exit(1);
}
console.log('\ncheck:package: ok');
