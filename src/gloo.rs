//! The shape of `gloo-net`'s `eventsource::futures` API over sse-web's engine, so code written for
//! it changes one import (`use gloo_net::eventsource::futures::EventSource` becomes
//! `use sse_web::gloo::EventSource`) and gains what the browser's `EventSource` lacks: Workers
//! and Node, and, through [`EventSource::from`] a [`crate::EventSource`] from its builder, any
//! method, headers, a body and a retry policy.
//!
//! ```no_run
//! use futures_util::{stream, StreamExt};
//! use sse_web::gloo::EventSource;
//!
//! # async fn run() {
//! let mut es = EventSource::new("/v1/updates").unwrap();
//! let notes = es.subscribe("note").unwrap();
//! let messages = es.subscribe("message").unwrap();
//! let mut both = stream::select(notes, messages);
//! while let Some(Ok((event_type, msg))) = both.next().await {
//!     let _ = (event_type, msg.data(), msg.last_event_id());
//! }
//! # }
//! ```
//!
//! As in `gloo-net`: a subscription gets the events of its type (`message` is the events with no
//! type, or `event: message`) as `(type, MessageEvent)`, created once per event and shared by
//! the subscriptions of that type; `Err(EventSourceError::ConnectionError)` when the source
//! closes on an error (not while it reconnects); events that arrive before a type has a
//! subscription are not kept. Unlike `gloo-net`, every subscription ends (`None`) once the
//! source is closed, and the details of an error are on [`crate::EventSource`]'s own items.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use wasm_bindgen::JsValue;
use web_sys::{MessageEvent, MessageEventInit};

use crate::event_source::{drive, Change};
use crate::BuildError;

/// The ready state, under the name `gloo-net` gives it.
pub use sse_web_core::reconnect::ReadyState as State;

/// What a subscription yields when the source closes on an error, as `gloo-net`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSourceError {
    /// The connection failed and the source is closed (it does not reconnect).
    ConnectionError,
}

impl std::fmt::Display for EventSourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSource connection failed")
    }
}

impl std::error::Error for EventSourceError {}

type Item = Result<(String, MessageEvent), EventSourceError>;

/// One subscription's queue, filled by the source's driver.
struct Feed {
    event_type: String,
    items: VecDeque<Item>,
    ended: bool,
    waker: Option<Waker>,
}

impl Feed {
    fn push(&mut self, item: Option<Item>) {
        match item {
            Some(item) => self.items.push_back(item),
            None => self.ended = true,
        }
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// The live subscriptions of a source (a dropped one is let go at the next event).
type Feeds = Rc<RefCell<Vec<Weak<RefCell<Feed>>>>>;

/// A source with `gloo-net`'s API. Dropping it (or [`EventSource::close`]) closes the source,
/// and then every subscription ends.
pub struct EventSource {
    es: Rc<crate::EventSource>,
    feeds: Feeds,
    /// Set once the driver saw the source end: a later subscription ends at once.
    ended: Rc<Cell<bool>>,
}

impl EventSource {
    /// Opens a source of `url` with the spec's defaults (GET, reconnect after 3 s). The `Err`
    /// is a URL or option sse-web refuses.
    pub fn new(url: &str) -> Result<Self, BuildError> {
        crate::EventSource::builder(url).connect().map(Self::from)
    }

    /// A stream of the events of `event_type`. Never fails; a `Result`, as `gloo-net`'s.
    pub fn subscribe(&mut self, event_type: &str) -> Result<EventSourceSubscription, BuildError> {
        let feed = Rc::new(RefCell::new(Feed {
            event_type: event_type.into(),
            items: VecDeque::new(),
            ended: self.ended.get(),
            waker: None,
        }));
        self.feeds.borrow_mut().push(Rc::downgrade(&feed));
        Ok(EventSourceSubscription { feed })
    }

    /// The ready state: connecting (or waiting to reconnect), open, or closed.
    pub fn state(&self) -> State {
        self.es.ready_state()
    }

    /// Closes the source: no further event or request; every subscription ends.
    pub fn close(self) {}
}

impl Drop for EventSource {
    fn drop(&mut self) {
        self.es.close();
    }
}

impl From<crate::EventSource> for EventSource {
    /// `gloo-net`'s API over a source made with [`crate::EventSource::builder`].
    fn from(es: crate::EventSource) -> Self {
        let es = Rc::new(es);
        let feeds: Feeds = Rc::default();
        let ended = Rc::new(Cell::new(false));
        let (driven, to, done) = (es.clone(), feeds.clone(), ended.clone());
        wasm_bindgen_futures::spawn_local(async move {
            drive(driven, |change| {
                let Change::Item(item) = change else { return };
                let mut live = to.borrow_mut();
                live.retain(|f| f.strong_count() > 0);
                match item {
                    Ok(event) => {
                        let mut made = None;
                        for feed in live.iter().filter_map(Weak::upgrade) {
                            let mut feed = feed.borrow_mut();
                            if feed.event_type != event.event_type {
                                continue;
                            }
                            match made.get_or_insert_with(|| message_event(&event)).clone() {
                                Some(msg) => feed.push(Some(Ok((event.event_type.clone(), msg)))),
                                // The platform refused to make one: nothing to hand out.
                                None => break,
                            }
                        }
                    }
                    Err(e) if !e.will_retry() => {
                        for feed in live.iter().filter_map(Weak::upgrade) {
                            feed.borrow_mut()
                                .push(Some(Err(EventSourceError::ConnectionError)));
                        }
                    }
                    Err(_) => {}
                }
            })
            .await;
            done.set(true);
            for feed in to.borrow().iter().filter_map(Weak::upgrade) {
                feed.borrow_mut().push(None);
            }
        });
        EventSource { es, feeds, ended }
    }
}

/// A `MessageEvent` of `event` (its type, data and last event ID), as the platform's.
fn message_event(event: &sse_web_core::parser::Event) -> Option<MessageEvent> {
    let init = MessageEventInit::new();
    init.set_data(&JsValue::from_str(&event.data));
    init.set_last_event_id(&event.last_event_id);
    MessageEvent::new_with_event_init_dict(&event.event_type, &init).ok()
}

/// The events of one type of an [`EventSource`], as `gloo-net`'s subscription: `Ok((type,
/// MessageEvent))`, `Err` when the source closes on an error, and the end once it is closed.
pub struct EventSourceSubscription {
    feed: Rc<RefCell<Feed>>,
}

impl Stream for EventSourceSubscription {
    type Item = Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        let mut feed = self.feed.borrow_mut();
        if let Some(item) = feed.items.pop_front() {
            return Poll::Ready(Some(item));
        }
        if feed.ended {
            return Poll::Ready(None);
        }
        feed.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
