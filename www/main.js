// The demo, for now: the counter stream that the server cuts mid-event, resumed without loss.
import { EventSource } from 'sse-web';

const log = document.getElementById('log');
const line = (text) => { log.textContent += `${text}\n`; };
const es = new EventSource('/counter?total=20&interval=200&drops=2&token=page', { retry: { reconnectionTime: 500 } });
es.onmessage = (e) => line(`event ${e.data} (id ${e.lastEventId})`);
es.onerror = (e) => line(e.willRetry ? `${e.message}: reconnecting in ${e.retryIn} ms` : `closed: ${e.message}`);
