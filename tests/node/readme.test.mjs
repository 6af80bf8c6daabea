// The package README's examples (src/js/README.md, which scripts/build.sh puts in pkg/) are code
// that works: every ```js and ```ts block is written to a file of a fresh project that has the
// packed package installed, and type-checked there by tsc (strict, `checkJs` for the JS blocks, as
// `// @ts-check` does); the blocks that talk to sse-testserver (127.0.0.1:8787, or SSE_TESTSERVER)
// are run by Node and must print the three events. A block using `require` is a CommonJS file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A path in the repository, wherever the tests run from. */
const repo = (path) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const server = process.env.SSE_TESTSERVER ?? 'http://127.0.0.1:8787';
const README_SERVER = 'http://127.0.0.1:8787';
const readme = readFileSync(repo('src/js/README.md'), 'utf8');
const blocks = [...readme.matchAll(/^```(js|ts)\n([^]*?)^```$/gm)].map(([, lang, code], i) => {
  const ext = lang === 'ts' ? 'ts' : /\brequire\(/.test(code) ? 'cjs' : 'js';
  return { file: `example-${i + 1}.${ext}`, code, line: readme.slice(0, readme.indexOf(code)).split('\n').length };
});

const root = mkdtempSync(join(tmpdir(), 'sse-web-readme-'));
after(() => rmSync(root, { recursive: true, force: true }));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const tarball = join(root, run('npm', ['pack', repo('pkg'), '--pack-destination', root, '--silent']).trim().split('\n').pop());
writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'readme-examples', private: true, type: 'module' }));
run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball]);
for (const b of blocks) writeFileSync(join(root, b.file), b.code);

test('the README has its examples: the chat, the drop-in GET, the CommonJS one, TypeScript', () => {
  const all = blocks.map((b) => b.code).join('\n');
  assert.ok(blocks.length >= 5, `${blocks.length} blocks`);
  assert.match(all, /method: 'POST'/);
  assert.match(all, /'Content-Type': 'application\/json'/);
  assert.match(all, /body: JSON\.stringify\(/);
  assert.match(all, /headers: async \(\) =>/);
  assert.ok(blocks.some((b) => b.file.endsWith('.cjs')), 'a CommonJS block');
  assert.ok(blocks.some((b) => b.file.endsWith('.ts')), 'a TypeScript block');
  assert.match(all, /\.restart\(\)/);
  assert.match(all, /onComment:/);
});

/** Runs tsc on `files` with `options` (strict, DOM, nodenext); the errors at their README lines. */
function typecheck(name, files, options) {
  writeFileSync(join(root, `tsconfig.${name}.json`), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, skipLibCheck: false, types: [],
      target: 'es2022', lib: ['es2022', 'dom'], module: 'nodenext', moduleResolution: 'nodenext', ...options,
    },
    files: files.map((b) => b.as ?? b.file),
  }));
  const tsc = spawnSync(repo('node_modules/.bin/tsc'), ['-p', `tsconfig.${name}.json`], { cwd: root, encoding: 'utf8' });
  const out = (tsc.stdout + tsc.stderr).replace(/(?:as-ts-)?example-(\d+)\.\w+\((\d+),(\d+)\)/g,
    (_, n, l, c) => `src/js/README.md(${blocks[n - 1].line + Number(l) - 1},${c})`);
  assert.equal(tsc.status, 0, out);
}

test('the README\'s js blocks type-check as JavaScript (checkJs, as // @ts-check does)', () => {
  // Strict but for noImplicitAny: in a JS file TypeScript does not contextually type a handler
  // assigned at the top level (`es.onmessage = (e) => ...`, the native EventSource's too).
  typecheck('js', blocks.filter((b) => b.file.endsWith('js')), { allowJs: true, checkJs: true, noImplicitAny: false });
});

test('the README\'s ts blocks, and its ES-module js blocks read as TypeScript, type-check strictly', () => {
  // As TypeScript the js blocks get excess-property checks (a misspelt option) and typed handlers.
  const asTs = blocks.filter((b) => b.file.endsWith('.js')).map((b) => ({ ...b, as: `as-ts-${b.file.replace(/\.js$/, '.ts')}` }));
  for (const b of asTs) writeFileSync(join(root, b.as), b.code);
  typecheck('ts', [...blocks.filter((b) => b.file.endsWith('.ts')), ...asTs], {});
});

for (const b of blocks.filter((b) => b.code.includes(README_SERVER))) {
  test(`the README example at line ${b.line} (${b.file}) runs against sse-testserver`, () => {
    const file = join(root, `run-${b.file}`);
    writeFileSync(file, b.code.replaceAll(README_SERVER, server));
    const node = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 20000 });
    assert.equal(node.status, 0, node.stderr);
    assert.equal(node.stdout, '1\n2\n3\n');
    assert.equal(node.stderr, '', 'no warning');
  });
}
