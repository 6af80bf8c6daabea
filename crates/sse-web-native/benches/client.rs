//! End-to-end events/s over loopback: sse-web-native against reqwest-eventsource, on the same server
//! stream (the LLM-token corpus from sse-testserver's `/bench`) in the same run.
//! `cargo bench -p sse-web-native --bench client`; the README has the table.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures_util::StreamExt;
use sse_testserver::corpus::Corpus;

const EVENTS: usize = 200_000;

async fn ours(url: &str) -> usize {
    let mut es = sse_web_native::EventSource::builder(url)
        .connect()
        .expect("valid options");
    let mut n = 0;
    while let Some(Ok(_)) = es.next().await {
        n += 1;
        if n == EVENTS {
            break;
        }
    }
    n
}

async fn reqwest_eventsource(url: &str) -> usize {
    use reqwest_eventsource::{Event, EventSource};
    let mut es = EventSource::get(url);
    let mut n = 0;
    while let Some(item) = es.next().await {
        match item {
            Ok(Event::Message(_)) => {
                n += 1;
                if n == EVENTS {
                    break;
                }
            }
            Ok(Event::Open) => {}
            Err(_) => break,
        }
    }
    es.close();
    n
}

fn bench(c: &mut Criterion) {
    // The server on its own thread and runtime, the clients on one thread: the clients' work is
    // what is measured, not the scheduler's.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let server = sse_testserver::spawn().await.expect("server");
            let _ = tx.send(server.url());
            std::future::pending::<()>().await
        })
    });
    let base = rx.recv().expect("server started");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Writes of 16 KiB (as the parser benchmark), and of 64 KiB.
    for (corpus, chunk) in [
        (Corpus::Llm, 16384),
        (Corpus::Multiline, 16384),
        (Corpus::Llm, 65536),
    ] {
        let url = format!(
            "{base}/bench?corpus={}&n={EVENTS}&chunk={chunk}",
            corpus.name()
        );
        assert_eq!(rt.block_on(ours(&url)), EVENTS);
        assert_eq!(rt.block_on(reqwest_eventsource(&url)), EVENTS);
        let mut g = c.benchmark_group(format!("client-{}-{}k", corpus.name(), chunk / 1024));
        g.throughput(Throughput::Elements(EVENTS as u64));
        g.sample_size(10);
        g.bench_function("sse-web-native", |b| b.to_async(&rt).iter(|| ours(&url)));
        g.bench_function("reqwest-eventsource", |b| {
            b.to_async(&rt).iter(|| reqwest_eventsource(&url))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
