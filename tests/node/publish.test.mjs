// The npm package as it would be published: pkg/ (scripts/build.sh) `npm pack`ed, then the tarball
// linted by publint and by Are the Types Wrong (attw), and its README checked to be the package's
// own (src/js/README.md), not the repository's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

/** A path in the repository, wherever the tests run from. */
const repo = (path) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'sse-web-publish-'));
after(() => rmSync(root, { recursive: true, force: true }));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
const tarball = join(root, run('npm', ['pack', repo('pkg'), '--pack-destination', root, '--silent']).trim().split('\n').pop());
const attw = repo('node_modules/.bin/attw');

test('the tarball holds the package README (src/js/README.md) and both licenses', () => {
  for (const f of ['README.md', 'LICENSE-MIT', 'LICENSE-APACHE']) {
    run('tar', ['-xzf', tarball, '-C', root, `package/${f}`]);
    const source = f === 'README.md' ? 'src/js/README.md' : f;
    assert.equal(readFileSync(join(root, `package/${f}`), 'utf8'), readFileSync(repo(source), 'utf8'), f);
  }
});

test('publint: no error, warning or suggestion', async () => {
  const bytes = readFileSync(tarball);
  const { messages, pkg } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    level: 'suggestion',
    strict: true,
  });
  const text = messages.map((m) => `${m.type}: ${formatMessage(m, pkg, { color: false })}`);
  console.log(text.length ? text.join('\n') : 'publint: all good');
  assert.deepEqual(messages.map((m) => formatMessage(m, pkg, { color: false })), []);
});

test('attw --profile esm-only: no problem; CommonJS resolution only finds the ES module', () => {
  // The package is ES-module only (its README says why and what CommonJS users do): the esm-only
  // profile leaves out the node10 and node16-from-CJS resolutions. The types ship with the
  // package, so DefinitelyTyped is not asked (no registry call).
  const table = spawnSync(attw, [tarball, '--profile', 'esm-only', '--no-definitely-typed', '--no-color', '--no-emoji'], { encoding: 'utf8' });
  console.log(table.stdout, table.stderr);
  assert.equal(table.status, 0, 'attw exits 0');
  // What it found in every resolution, ignored ones included: only that a require() from CJS
  // gets the ES module, which is the esm-only choice; anything else fails, whatever the profile.
  const json = JSON.parse(spawnSync(attw, [tarball, '--no-definitely-typed', '--format', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout);
  const problems = Object.values(json.problems ?? {}).flat().map((p) => `${p.kind} ${p.entrypoint ?? ''} ${p.resolutionKind ?? ''}`.trim());
  assert.deepEqual(problems, ['CJSResolvesToESM . node16-cjs']);
});
