//! Parser throughput on the four corpora fed in 16 KiB chunks, against `eventsource-stream` on the
//! same bytes in the same run. `npm run bench:parser` prints the table with ratios (and adds
//! `eventsource-parser` in Node).

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{criterion_group, Criterion, Throughput};
    use futures_util::StreamExt;
    use sse_testserver::corpus::Corpus;
    use sse_web_core::parser::{Frame, Parser};

    const CHUNK: usize = 16 * 1024;

    /// Ours, zero-copy: count events and data bytes so nothing is optimised away.
    fn ours_borrowed(bytes: &[u8]) -> usize {
        let mut p = Parser::new();
        let mut n = 0;
        for c in bytes.chunks(CHUNK) {
            p.feed(c, |f| {
                if let Frame::Event(e) = f {
                    n += e.data.len() + 1;
                }
            })
            .unwrap_or(());
        }
        n
    }

    /// Ours, owned events (what a user of the owned API pays).
    fn ours_owned(bytes: &[u8]) -> usize {
        let mut p = Parser::new();
        let mut n = 0;
        for c in bytes.chunks(CHUNK) {
            for e in p.events(c).unwrap_or_default() {
                n += e.data.len() + 1;
            }
        }
        n
    }

    fn eventsource_stream(bytes: &[u8]) -> usize {
        use eventsource_stream::Eventsource;
        let chunks = bytes
            .chunks(CHUNK)
            .map(|c| Ok::<_, std::convert::Infallible>(bytes::Bytes::copy_from_slice(c)));
        let mut stream = futures_util::stream::iter(chunks).eventsource();
        futures_executor::block_on(async {
            let mut n = 0;
            while let Some(Ok(e)) = stream.next().await {
                n += e.data.len() + 1;
            }
            n
        })
    }

    fn bench(c: &mut Criterion) {
        for corpus in Corpus::ALL {
            let bytes = corpus.generate(corpus.default_events());
            // Same events from everyone before timing anyone.
            let expected = ours_borrowed(&bytes);
            assert_eq!(ours_owned(&bytes), expected);
            assert_eq!(
                eventsource_stream(&bytes),
                expected,
                "eventsource-stream disagrees on {}",
                corpus.name()
            );
            let mut g = c.benchmark_group(corpus.name());
            g.throughput(Throughput::Bytes(bytes.len() as u64));
            g.sample_size(10);
            g.bench_function("sse-web-core", |b| b.iter(|| ours_borrowed(&bytes)));
            g.bench_function("sse-web-core-owned", |b| b.iter(|| ours_owned(&bytes)));
            g.bench_function("eventsource-stream", |b| {
                b.iter(|| eventsource_stream(&bytes))
            });
            g.finish();
        }
    }

    criterion_group!(benches, bench);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

// The benchmark's dependencies are host-only.
#[cfg(target_arch = "wasm32")]
fn main() {}
