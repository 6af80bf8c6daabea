// `share` (issue #17), loaded on the first use of the option, so a page that never shares pays
// nothing for it: sources of one origin with the same key use one connection. A Web Lock elects
// the holder, which runs its engine; its engine's hooks also go to the others over a
// BroadcastChannel, and they apply them as their own. The lock goes when the holder closes, or
// its page or Worker goes (closed, crashed, navigated): the next in line resumes after the last
// event IT received.

// The hooks the holder tells the others.
const TOLD = ['started', 'response', 'open', 'frames', 'error', 'connecting'];
const CONNECTING = 0;
const OPEN = 1;

// A Headers does not clone: it crosses as its entries.
const entries = (headers) => [...(headers ?? [])];

/**
 * Puts a source in line for `key`. `m` is its membership, `{ channel }` (the key's
 * BroadcastChannel, open since the source was made; `heard`, what it heard since), given
 * `holding` and `post(message)` here. `told` is the hooks object its engine was made with, over
 * `hooks` (the source's own): filled in here, so each hook also goes to the others while this
 * source holds. `s` is the source's side (event_source.js): `state()` → `[readyState,
 * lastEventId, reconnectionTime, response]` (empty once closed), `start(id)`, `joined(id,
 * time)`, `resume(id)`, `restart()`. `signal` aborts when the source closes: it lets go of the
 * lock, or of its place in line.
 */
export function join(m, heard, s, told, hooks, locks, key, signal) {
  const { channel } = m;
  const me = Math.random();
  m.holding = false;
  m.post = (message) => {
    try {
      channel.postMessage(message);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of TOLD) {
    told[name] = (...args) => {
      if (m.holding) {
        if (name === 'response') m.post([name, args[0], args[1], entries(args[2])]);
        // An error's cause goes only if it clones.
        else if (!m.post([name, ...args]) && name === 'error') m.post([name, ...args.slice(0, 7), undefined, args[8]]);
      }
      return hooks[name](...args);
    };
  }
  const hear = ([name, ...args]) => {
    if (name === 'hello' || name === 'restart') {
      if (!m.holding) return undefined;
      if (name === 'restart') return s.restart();
      // A source that joins an open stream starts from here, as the holder is.
      const [state, id, time, r] = s.state();
      return m.post(['joined', args[0], state, id, time, r && [r.status, r.url, entries(r.headers)]]);
    }
    if (m.holding) return undefined;
    if (name === 'joined') {
      const [who, state, id, time, response] = args;
      if (who !== me || s.state()[0] !== CONNECTING) return undefined;
      s.joined(id, time);
      if (state === OPEN && response) {
        hooks.response(response[0], response[1], new Headers(response[2]));
        hooks.open(response[1]);
      }
    } else if (name === 'resume') {
      // A new holder behind this source replays what this one has: dropped up to its last ID.
      s.resume(args[0]);
    } else if (TOLD.includes(name)) {
      if (name === 'response') args[2] = new Headers(args[2]);
      hooks[name](...args);
    }
    return undefined;
  };
  for (const data of heard) hear(data);
  channel.onmessage = ({ data }) => hear(data);
  locks.request(key, { signal }, () => {
    const [state, id] = s.state();
    if (state === undefined) return undefined;
    m.holding = true;
    m.post(['resume', id]);
    s.start(id);
    return new Promise((r) => signal.addEventListener('abort', r));
  }).catch(() => {});
  channel.postMessage(['hello', me]);
}
