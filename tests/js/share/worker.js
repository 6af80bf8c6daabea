// A dedicated Worker whose source shares the page's stream (tests/node/share.test.mjs).
import { EventSource } from '/pkg/index.js';

onmessage = ({ data: url }) => {
  const ids = [];
  const es = new EventSource(url, { share: 'test' });
  es.onmessage = (e) => {
    ids.push(e.lastEventId);
    postMessage({ ids, shared: es.shared });
  };
  es.onerror = () => postMessage({ ids, shared: es.shared, readyState: es.readyState });
};
