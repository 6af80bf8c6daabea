//! `sse-tail URL [-X METHOD] [-H 'Name: value']... [-d BODY] [--last-event-id ID]`: prints events
//! as they come, like `curl -N` but parsed and reconnecting.
//!
//! Exit codes: 0 when the stream closed cleanly (e.g. the server answered 204), 1 when it failed
//! for good (the error is printed), 2 on a usage error.

use futures_util::StreamExt;
use sse_web_native::{EventSource, ReadyState};

const USAGE: &str =
    "usage: sse-tail URL [-X METHOD] [-H 'Name: value']... [-d BODY] [--last-event-id ID]";

fn usage(problem: &str) -> ! {
    eprintln!("sse-tail: {problem}\n{USAGE}");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut builder_steps: Vec<(String, String)> = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match arg.as_str() {
            "-X" | "--request" => builder_steps.push(("method".into(), value("-X"))),
            "-H" | "--header" => builder_steps.push(("header".into(), value("-H"))),
            "-d" | "--data" => builder_steps.push(("body".into(), value("-d"))),
            "--last-event-id" => builder_steps.push(("id".into(), value("--last-event-id"))),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => usage(&format!("unexpected argument {arg:?}")),
        }
    }
    let Some(url) = url else {
        usage("a URL is required")
    };
    let mut builder = EventSource::builder(&url);
    for (what, value) in builder_steps {
        builder = match what.as_str() {
            "method" => builder.method(&value),
            "header" => match value.split_once(':') {
                Some((name, v)) => builder.header(name.trim(), v.trim()),
                None => usage(&format!("header {value:?} is not 'Name: value'")),
            },
            "body" => builder.body(value),
            _ => builder.last_event_id(&value),
        };
    }
    let mut events = match builder.connect() {
        Ok(e) => e,
        Err(e) => usage(&e.to_string()),
    };
    while let Some(item) = events.next().await {
        match item {
            Ok(event) => {
                if event.event_type != "message" {
                    println!("event: {}", event.event_type);
                }
                if !event.last_event_id.is_empty() {
                    println!("id: {}", event.last_event_id);
                }
                for line in event.data.split('\n') {
                    println!("data: {line}");
                }
                println!();
            }
            Err(e) if e.will_retry() => eprintln!("sse-tail: {e}"),
            // 204 No Content is the server's way to say "done".
            Err(e) if e.status() == Some(204) => std::process::exit(0),
            Err(e) => {
                eprintln!("sse-tail: {e}");
                std::process::exit(1);
            }
        }
    }
    if events.ready_state() != ReadyState::Closed {
        std::process::exit(1);
    }
}
