//! sse-web in a Yew app: the counter stream of sse-testserver, cut by the server twice and
//! resumed with `Last-Event-ID`, rendered as it arrives. `?server=URL&token=T` picks the server
//! (default: this page's origin) and the stream's token.

use sse_web::yew::use_event_source;
use sse_web::{EventSource, ReadyState, RetryPolicy};
use yew::prelude::*;

/// A query parameter of the page's URL.
fn param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

#[function_component]
fn App() -> Html {
    let server = param("server").unwrap_or_default();
    let token = param("token").unwrap_or_else(|| "yew".into());
    // Each restart is a new input: the hook closes the old stream and opens a new one.
    let run = use_state(|| 0u32);
    let stream = use_event_source((server, token, *run), 100, |(server, token, run)| {
        let url =
            format!("{server}/counter?token={token}-{run}&total=60&interval=20&drops=2&seed=3");
        EventSource::builder(&url).retry(RetryPolicy {
            reconnection_time_ms: 50,
            ..RetryPolicy::default()
        })
    });
    let state = match stream.ready_state {
        ReadyState::Connecting => "connecting",
        ReadyState::Open => "open",
        ReadyState::Closed => "closed",
    };
    let close = {
        let stream = stream.clone();
        Callback::from(move |_| stream.close())
    };
    html! {
        <main>
            <h1>{ "sse-web + Yew" }</h1>
            <p>{ "state: " }<b id="state">{ state }</b></p>
            <p>{ "last error: " }<span id="error">{ stream.error.as_ref().map(|e| e.to_string()).unwrap_or_default() }</span></p>
            <button id="close" onclick={close}>{ "close" }</button>
            <button id="restart" onclick={move |_| run.set(*run + 1)}>{ "restart" }</button>
            <ol id="events">{ for stream.history.iter().map(|e| html! { <li>{ e.data.clone() }</li> }) }</ol>
        </main>
    }
}

fn main() {
    yew::Renderer::<App>::new().render();
}
