//! sse-web in a Leptos app: the counter stream of sse-testserver, cut by the server twice and
//! resumed with `Last-Event-ID`, rendered as it arrives. `?server=URL&token=T` picks the server
//! (default: this page's origin) and the stream's token.

use leptos::prelude::*;
use sse_web::leptos::use_event_source;
use sse_web::{EventSource, ReadyState, RetryPolicy};

/// A query parameter of the page's URL.
fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

#[component]
fn App() -> impl IntoView {
    let server = param("server").unwrap_or_default();
    let token = param("token").unwrap_or_else(|| "leptos".into());
    // Each restart changes a signal the builder reads: the stream is closed and opened again.
    let (run, set_run) = signal(0u32);
    let stream = use_event_source(100, move || {
        let run = run.get();
        let url =
            format!("{server}/counter?token={token}-{run}&total=60&interval=20&drops=2&seed=3");
        EventSource::builder(&url).retry(RetryPolicy {
            reconnection_time_ms: 50,
            ..RetryPolicy::default()
        })
    });
    let state = move || match stream.ready_state.get() {
        ReadyState::Connecting => "connecting",
        ReadyState::Open => "open",
        ReadyState::Closed => "closed",
    };
    let error = move || {
        stream
            .error
            .get()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    view! {
        <main>
            <h1>"sse-web + Leptos"</h1>
            <p>"state: "<b id="state">{state}</b></p>
            <p>"last error: "<span id="error">{error}</span></p>
            <button id="close" on:click=move |_| stream.close()>"close"</button>
            <button id="restart" on:click=move |_| set_run.update(|r| *r += 1)>"restart"</button>
            <ol id="events">
                {move || stream.history.get().into_iter().map(|e| view! { <li>{e.data}</li> }).collect_view()}
            </ol>
        </main>
    }
}

fn main() {
    mount_to_body(App);
}
