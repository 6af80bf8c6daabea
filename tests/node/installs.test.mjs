// The npm package as users get it: `npm pack`ed, installed from the tarball into a fresh webpack 5
// app and a fresh Vite app in a temporary folder, built with no bundler configuration, loaded in
// each browser engine against sse-testserver, receiving events.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENGINES, launch, serve } from '../js/browser.mjs';

const server = process.env.SSE_TESTSERVER ?? 'http://127.0.0.1:8787';
const root = mkdtempSync(join(tmpdir(), 'sse-web-installs-'));
after(() => rmSync(root, { recursive: true, force: true }));
// One browser per engine, launched when its first test runs.
const browsers = {};
after(() => Promise.all(Object.values(browsers).map((b) => b.then((x) => x.close()))));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

const tarball = join(root, run('npm', ['pack', resolve('pkg'), '--pack-destination', root, '--silent'], root).trim().split('\n').pop());

// The app: five events from the counter stream, shown in the page.
const APP = `import { EventSource } from 'sse-web';
const server = new URLSearchParams(location.search).get('server');
const es = new EventSource(server + '/counter?total=5&token=' + Math.random());
es.onmessage = (e) => {
  document.body.insertAdjacentHTML('beforeend', '<p class="event">' + e.data + '</p>');
  if (e.data === '5') es.close();
};
`;

function app(name, files, deps) {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...deps], dir);
  return dir;
}

async function receives(dist, engine) {
  const browser = await (browsers[engine] ??= launch(engine));
  const site = await serve(dist);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${site.url}/index.html?server=${encodeURIComponent(server)}`);
    await page.waitForFunction(() => document.querySelectorAll('.event').length === 5, null, { timeout: 20000 });
    assert.deepEqual(await page.$$eval('.event', (p) => p.map((e) => e.textContent)), ['1', '2', '3', '4', '5']);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await site.close();
  }
}

// Each app is installed and built once, and loaded in every engine.
let webpackDist;
let viteDist;
for (const engine of ENGINES) {
  test(`a fresh webpack 5 app: npm install the tarball, build with no config, receive events [${engine}]`, { timeout: 300000 }, async () => {
    webpackDist ??= (() => {
      const dir = app('webpack-app', {
        'src/index.js': APP,
        'dist/index.html': '<!doctype html><meta charset="utf-8"><script src="main.js"></script>',
      }, ['webpack@5', 'webpack-cli@6']);
      run('npx', ['webpack', '--mode', 'production'], dir);
      return join(dir, 'dist');
    })();
    await receives(webpackDist, engine);
  });

  test(`a fresh Vite app: npm install the tarball, build with no config, receive events [${engine}]`, { timeout: 300000 }, async () => {
    viteDist ??= (() => {
      const dir = app('vite-app', {
        'main.js': APP,
        'index.html': '<!doctype html><meta charset="utf-8"><script type="module" src="/main.js"></script>',
      }, ['vite']);
      run('npx', ['vite', 'build'], dir);
      return join(dir, 'dist');
    })();
    await receives(viteDist, engine);
  });
}
