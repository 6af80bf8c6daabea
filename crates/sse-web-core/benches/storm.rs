//! Reconnect storms, in virtual time: 10,000 machines lose their connection at the same instant
//! (a server restart); how many reconnect in the worst 100 ms, and when the last is back. Only
//! sse-web-core: no network, no clock (`cargo bench -p sse-web-core --bench storm`).

use sse_web_core::options::{Options, RetryPolicy};
use sse_web_core::reconnect::{Action, Failure, Machine, Response};

const MACHINES: u64 = 10_000;
const WINDOW_MS: u64 = 100;
/// When the connections drop, in virtual ms (every machine has been open since 0).
const DROP_AT: u64 = 60_000;

/// The reconnect times (ms after the drop) of `MACHINES` machines under `policy`, each seeded as
/// a driver would (at random; here by its index), after the server's `retry:` if given.
fn storm(policy: &RetryPolicy, server_retry: Option<u64>) -> Vec<u64> {
    let ok = Response::new(200, Some("text/event-stream"));
    let mut back = Vec::with_capacity(MACHINES as usize);
    for seed in 0..MACHINES {
        let mut o = Options::new("https://example.com/events");
        o.retry = policy.clone();
        let mut m = Machine::new(o, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xDEAD_BEEF);
        let Action::Connect(c) = m.start(0) else {
            unreachable!("a new machine connects")
        };
        assert!(m.request(c, &[], 0).is_ok());
        assert_eq!(m.on_response(c, &ok, 0), Action::Open);
        if let Some(ms) = server_retry {
            let line = format!("retry: {ms}\n");
            m.on_chunk(c, line.as_bytes(), 0, |_| {});
        }
        let Action::Wait(_) = m.on_error(c, Failure::network(), DROP_AT) else {
            unreachable!("a network error is retried")
        };
        let at = m.poll_timeout().expect("a wait has a deadline");
        let Action::Connect(_) = m.handle_timeout(at) else {
            unreachable!("the wait ends in a reconnect")
        };
        back.push(at - DROP_AT);
    }
    back.sort_unstable();
    back
}

/// The most reconnects in any window of `WINDOW_MS` (sorted input).
fn peak(times: &[u64]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= WINDOW_MS {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

fn main() {
    let cases: [(&str, RetryPolicy, Option<u64>); 3] = [
        (
            "spec default (3 s, as the browser's EventSource)",
            RetryPolicy::default(),
            None,
        ),
        ("resilient", RetryPolicy::resilient(), None),
        (
            "resilient, after the server's retry: 0",
            RetryPolicy::resilient(),
            Some(0),
        ),
    ];
    println!("{MACHINES} machines lose their connection at the same instant:\n");
    println!("| policy | peak reconnects in {WINDOW_MS} ms | first back (ms) | all back (ms) |");
    println!("|---|---:|---:|---:|");
    for (name, policy, retry) in cases {
        let t = storm(&policy, retry);
        println!(
            "| {name} | {} | {} | {} |",
            peak(&t),
            t.first().copied().unwrap_or(0),
            t.last().copied().unwrap_or(0)
        );
    }
}
