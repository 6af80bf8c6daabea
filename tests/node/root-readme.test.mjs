// Every example of the repository README is one `npm test` compiles or runs elsewhere, quoted
// exactly: a block of the npm package's README (tests/node/readme.test.mjs type-checks and runs
// them), of a crate's README (its docs: doctests; scripts/publish-check.sh builds them as a user's
// crate), examples/stream.rs (built for wasm32), or a whole example app and its dependencies (built
// and run in Chromium by tests/node/examples.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const read = (p) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
/** A README's fenced blocks: [info string, body]. */
const blocks = (text) => [...text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```\n/gm)].map((m) => [m[1], m[2]]);

const compiledReadmes = ['src/js/README.md', 'crates/sse-web-core/README.md', 'crates/sse-web-native/README.md'];
const quoted = new Set(compiledReadmes.flatMap((p) => blocks(read(p)).map(([, body]) => body)));
// Whole programs: the Rust Stream example, and the two hook apps with their [dependencies] (the
// path to this repository written as the version a user depends on).
const apps = ['yew-counter', 'leptos-counter'];
const whole = new Set([
  read('examples/stream.rs'),
  ...apps.map((a) => read(`examples/${a}/src/main.rs`)),
  ...apps.map((a) => {
    const manifest = read(`examples/${a}/Cargo.toml`);
    return manifest.slice(manifest.indexOf('[dependencies]')).replace('path = "../.."', 'version = "0.1"');
  }),
]);

test('every example of README.md is compiled or run by npm test, quoted exactly', () => {
  const unchecked = [];
  let n = 0;
  for (const [info, body] of blocks(read('README.md'))) {
    const lang = info.split(',')[0];
    if (!['js', 'ts', 'rust', 'toml'].includes(lang)) continue;
    n++;
    // sse-web's own install lines: publish-check.sh builds README.md's [dependencies] for wasm32.
    const ownInstall = lang === 'toml' && body.includes('sse-web = "');
    if (ownInstall || quoted.has(body) || whole.has(body)) continue;
    unchecked.push(`${info}: ${body.split('\n')[0]} …`);
  }
  assert.ok(n >= 8, `README.md has its examples (${n})`);
  assert.deepEqual(unchecked, [], 'blocks that nothing compiles or runs');
});
