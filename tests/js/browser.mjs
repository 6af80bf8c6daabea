// The three browser engines (Debian's Chromium driven by playwright-core; Firefox ESR and
// WebKitGTK over plain W3C WebDriver, which playwright-core cannot drive in Debian's builds) and a
// static file server: what the Node tests need to load a built app in a real browser.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

/** The engines every browser test runs in. */
export const ENGINES = ['chromium', 'firefox', 'webkit'];

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };

/** A browser of `engine` (Chromium: with the flags it needs on these machines, and `extra`;
 * `launch(flags)` is Chromium with those):
 * `newPage()` gives a page with the part of playwright's Page API the tests use. */
export function launch(engine = 'chromium', extra = []) {
  // launch([...flags]): Chromium with those flags.
  if (Array.isArray(engine)) [engine, extra] = ['chromium', engine];
  if (engine !== 'chromium') return webDriver(engine);
  const executablePath = process.env.CHROMIUM ?? execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extra],
  });
}

/** Serves `dir` on a free loopback port; resolves to { url, close }. */
export function serve(dir) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  })));
}

const sh = (cmd) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();

/** A free loopback port (for a driver that must be told one). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Firefox (geckodriver, headless) or WebKitGTK (WebKitWebDriver; MiniBrowser has no headless
 * mode, so under Xvfb) over W3C WebDriver: one session per page. */
async function webDriver(engine) {
  const port = await freePort();
  const [cmd, args, capabilities] = engine === 'firefox'
    ? [process.env.GECKODRIVER ?? sh('command -v geckodriver'), ['--port', String(port)],
      { 'moz:firefoxOptions': { binary: sh('command -v firefox-esr'), args: ['-headless'] } }]
    : ['xvfb-run', ['-a', process.env.WEBKIT_WEBDRIVER ?? '/usr/bin/WebKitWebDriver', `--port=${port}`],
      { 'webkitgtk:browserOptions': { binary: sh('ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser | head -n1'), args: ['--automation'] } }];
  // Its own process group: xvfb-run's Xvfb and the driver's browsers go with it.
  const driver = spawn(cmd, args, { stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const res = await fetch(base + path, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
    const out = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${out.value?.error}: ${out.value?.message}`);
    return out.value;
  };
  for (let end = Date.now() + 20000; ; await new Promise((r) => setTimeout(r, 100))) {
    if (await call('GET', '/status').then((v) => v.ready !== false, () => false)) break;
    if (Date.now() > end) throw new Error(`${engine}: the WebDriver did not start`);
  }
  return {
    async newPage(options = {}) {
      const { sessionId } = await call('POST', '/session', { capabilities: { alwaysMatch: capabilities } });
      const s = (path) => `/session/${sessionId}${path}`;
      const listeners = [];
      // Errors thrown in the page after the load are collected there and handed over with every
      // script's result (WebDriver classic has no event for them); one during the load shows as
      // a page that never gets where the test waits.
      const run = async (fn, arg) => {
        const [ok, value, errors] = await call('POST', s('/execute/async'), {
          script: `const done = arguments[1], errs = () => (globalThis.__pageErrors ?? []).splice(0);
            Promise.resolve().then(() => (${fn})(arguments[0])).then((v) => done([true, v, errs()]), (e) => done([false, String(e?.stack ?? e), errs()]));`,
          args: [arg ?? null],
        });
        for (const e of errors) for (const f of listeners) f({ message: e });
        if (!ok) throw new Error(`in ${engine}: ${value}`);
        return value;
      };
      const element = async (selector) => Object.values(await call('POST', s('/element'), { using: 'css selector', value: selector }))[0];
      if (options.viewport) await call('POST', s('/window/rect'), options.viewport);
      return {
        on(what, f) {
          if (what === 'pageerror') listeners.push(f);
        },
        async goto(url) {
          await call('POST', s('/url'), { url });
          await run(() => {
            globalThis.__pageErrors = [];
            addEventListener('error', (e) => globalThis.__pageErrors.push(e.message));
            addEventListener('unhandledrejection', (e) => globalThis.__pageErrors.push(String(e.reason)));
          });
        },
        evaluate: run,
        async waitForFunction(fn, arg, { timeout = 30000 } = {}) {
          for (const end = Date.now() + timeout; !(await run(fn, arg)); await new Promise((r) => setTimeout(r, 50))) {
            if (Date.now() > end) throw new Error(`${engine}: timed out after ${timeout} ms waiting for ${fn}`);
          }
        },
        $$eval: (selector, fn) => run(`([sel, f]) => (0, eval)(f)([...document.querySelectorAll(sel)])`, [selector, String(fn)]),
        textContent: (selector) => run((sel) => document.querySelector(sel)?.textContent ?? null, selector),
        async click(selector) {
          await call('POST', s(`/element/${await element(selector)}/click`), {});
        },
        async screenshot({ path }) {
          writeFileSync(path, Buffer.from(await call('GET', s('/screenshot')), 'base64'));
        },
        close: () => call('DELETE', s('')),
      };
    },
    async close() {
      try {
        process.kill(-driver.pid);
      } catch {
        // Already gone.
      }
    },
  };
}
