// The demo: an LLM-style answer over POST + JSON body + a refreshed Authorization header, the
// connection state, the reconnect countdown, Last-Event-ID and events/s; "Cut the stream" asks
// sse-testserver to drop the connection, and the answer resumes with nothing lost or repeated.
import { EventSource } from 'sse-web';

const $ = (id) => document.getElementById(id);
const STATES = ['connecting', 'open', 'closed'];
const token = `demo-${Math.random().toString(36).slice(2)}`;

let es;
let expected = 1;
let lost = 0;
let repeated = 0;
let tokens = 0;
let auth = 0;
let countdown;
const arrivals = [];

function log(text, cls = '') {
  const line = document.createElement('div');
  line.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  if (cls) line.className = cls;
  $('log').prepend(line);
}

function render() {
  const state = STATES[es?.readyState ?? 2];
  $('state').textContent = state.toUpperCase();
  $('state').className = `pill ${state}`;
  $('last-id').textContent = es?.lastEventId || '—';
  $('tokens').textContent = tokens;
  $('integrity').textContent = `${lost} / ${repeated}`;
  $('integrity').className = lost + repeated === 0 ? 'ok' : 'bad';
  $('cut').disabled = es?.readyState !== EventSource.OPEN;
  const now = performance.now();
  while (arrivals.length && arrivals[0] < now - 1000) arrivals.shift();
  $('rate').textContent = arrivals.length;
}
setInterval(render, 200);

function start(prompt) {
  es?.close();
  clearInterval(countdown);
  Object.assign(globalThis, { demoDone: false });
  expected = 1;
  lost = repeated = tokens = 0;
  $('answer').textContent = '';
  es = new EventSource(`/chat?token=${token}&total=300&interval=30`, {
    method: 'POST',
    // Called before every attempt: a fresh token each time (here, a counter).
    headers: () => {
      auth += 1;
      $('auth').textContent = `Bearer …${auth}`;
      return { Authorization: `Bearer demo-token-${auth}`, 'Content-Type': 'application/json' };
    },
    body: JSON.stringify({ prompt }),
    retry: { reconnectionTime: 1500 },
  });
  es.onopen = () => {
    clearInterval(countdown);
    $('countdown').textContent = '—';
    log(`open (Authorization: Bearer demo-token-${auth}, Last-Event-ID: ${es.lastEventId || 'none'})`, 'ok');
    render();
  };
  es.onmessage = (e) => {
    const { n, text } = JSON.parse(e.data);
    if (n < expected) repeated += 1;
    else lost += n - expected;
    expected = Math.max(expected, n + 1);
    tokens += 1;
    arrivals.push(performance.now());
    $('answer').textContent += text;
  };
  es.onerror = (e) => {
    if (e.willRetry) {
      log(`${e.message}: reconnecting in ${e.retryIn} ms`, 'bad');
      const until = performance.now() + e.retryIn;
      clearInterval(countdown);
      countdown = setInterval(() => {
        const left = Math.max(0, until - performance.now());
        $('countdown').textContent = `${(left / 1000).toFixed(1)} s`;
        if (left === 0) clearInterval(countdown);
      }, 100);
    } else {
      log(e.status === 204 ? 'done: the server has nothing more (204)' : `closed: ${e.message}`);
      globalThis.demoDone = true;
    }
    render();
  };
  render();
}

$('ask').addEventListener('submit', (e) => {
  e.preventDefault();
  start($('prompt').value);
});
$('cut').addEventListener('click', async () => {
  await fetch(`/cut?token=${token}`);
  log('asked the server to cut the stream');
});
// One connection for every tab (`share`): a ticking stream that every tab of this demo shares. The
// server's request log says how many connections it holds for it: open another tab, still one.
const live = new EventSource('/counter?token=demo-live&total=100000000&interval=1000', { share: 'demo live' });
let held = 0;
live.onmessage = (e) => { $('live-tick').textContent = e.data; };
setInterval(async () => {
  const log = await (await fetch('/log?token=demo-live')).json();
  held = log.filter((r) => r.ended == null).length;
  $('live-held').textContent = `${held} connection${held === 1 ? '' : 's'}`;
  $('live-role').textContent = live.shared ? '' : ' (not here: this browser has no Web Locks)';
}, 1000);

// What the end-to-end test reads.
globalThis.demo = { token, get stats() { return { tokens, lost, repeated, auth, state: es?.readyState, lastEventId: es?.lastEventId, tick: live.lastEventId, held }; } };
start($('prompt').value);
