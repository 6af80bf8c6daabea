// sse-web from Rust in a browser page: a chat answer streamed over POST into the console, with an
// Authorization header refreshed before every attempt. Build it for wasm32-unknown-unknown
// (`cargo build --target wasm32-unknown-unknown`; here `--example stream`) and run wasm-bindgen
// on the .wasm (`wasm-bindgen --target web`); `main` runs when the module loads.
use futures_util::StreamExt;
use sse_web::{EventSource, RetryPolicy};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    // The page's console.log.
    #[wasm_bindgen(js_namespace = console)]
    fn log(text: &str);
}

/// Called before every attempt, so a reconnect sends a token that is still valid.
async fn fresh_token() -> String {
    // Fetch or refresh it here (your auth endpoint, a token in storage).
    "Bearer example-token".to_string()
}

async fn chat() {
    let built = EventSource::builder("/v1/chat")
        .method("POST")
        .header("Content-Type", "application/json")
        .headers_with(|| async { vec![("Authorization".to_string(), fresh_token().await)] })
        .body(r#"{"prompt":"hi"}"#)
        .retry(RetryPolicy::resilient())
        .connect();
    let mut events = match built {
        Ok(events) => events,
        Err(error) => return log(&format!("bad options: {error}")),
    };
    while let Some(item) = events.next().await {
        match item {
            Ok(event) => log(&event.data),
            // The policy retries this one: the stream goes on by itself after error.retry_in().
            Err(error) if error.will_retry() => log(&format!("reconnecting: {error}")),
            // Closed for good (a 4xx, a wrong content type, or the retries ran out).
            Err(error) => return log(&format!("closed: {error}")),
        }
    }
}

fn main() {
    wasm_bindgen_futures::spawn_local(chat());
}
