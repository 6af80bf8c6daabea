//! Leptos: [`use_event_source`], an [`EventSource`] as signals, reopened when the signals its
//! builder reads change and closed when the owner is cleaned up.

use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;

use crate::event_source::{drive, Change};
use crate::{Builder, Event, EventSource, HookError, ReadyState};

/// The signals of [`use_event_source`], and [`UseEventSource::close`].
#[derive(Clone, Copy)]
pub struct UseEventSource {
    /// CONNECTING (or waiting to reconnect), OPEN or CLOSED.
    pub ready_state: ReadSignal<ReadyState>,
    /// The latest event.
    pub event: ReadSignal<Option<Event>>,
    /// Up to `history` latest events, newest last.
    pub history: ReadSignal<VecDeque<Event>>,
    /// The last error (a retried one too: see [`will_retry`](sse_web_core::reconnect::Error::will_retry)).
    pub error: ReadSignal<Option<HookError>>,
    current: StoredValue<Option<Rc<EventSource>>, LocalStorage>,
}

impl UseEventSource {
    /// Closes the source now (it reopens only when the signals its builder reads change).
    pub fn close(&self) {
        self.current.with_value(|es| {
            if let Some(es) = es {
                es.close();
            }
        });
    }
}

/// Opens `make()` in an effect: the signals `make` reads (a URL, a token, a prompt...) reopen it
/// when they change, and the owner's cleanup closes it. Keeps the latest `history` events.
///
/// ```no_run
/// use leptos::prelude::*;
/// use sse_web::leptos::use_event_source;
/// use sse_web::EventSource;
///
/// #[component]
/// fn Chat(prompt: ReadSignal<String>) -> impl IntoView {
///     let stream = use_event_source(50, move || {
///         EventSource::builder("/v1/chat").method("POST").body(prompt.get())
///     });
///     view! { <p>{move || stream.history.get().iter().map(|e| e.data.clone()).collect::<String>()}</p> }
/// }
/// ```
pub fn use_event_source(history: usize, make: impl Fn() -> Builder + 'static) -> UseEventSource {
    let (ready_state, set_ready_state) = signal(ReadyState::Connecting);
    let (event, set_event) = signal(None::<Event>);
    let (events, set_events) = signal(VecDeque::<Event>::with_capacity(history));
    let (error, set_error) = signal(None::<HookError>);
    let current = StoredValue::new_local(None::<Rc<EventSource>>);
    let close = move || {
        current.update_value(|es| {
            if let Some(es) = es.take() {
                es.close();
            }
        })
    };
    Effect::new(move |_| {
        let builder = make();
        close();
        set_ready_state.set(ReadyState::Connecting);
        set_event.set(None);
        set_events.set(VecDeque::with_capacity(history));
        set_error.set(None);
        match builder.connect() {
            Ok(es) => {
                let es = Rc::new(es);
                current.set_value(Some(es.clone()));
                // What a replaced stream still hands out must not land in its successor's signals.
                let live = Rc::downgrade(&es);
                let is_current = move || {
                    current.with_value(|c| {
                        c.as_ref()
                            .is_some_and(|c| live.upgrade().is_some_and(|l| Rc::ptr_eq(c, &l)))
                    })
                };
                wasm_bindgen_futures::spawn_local(drive(es, move |u| match u {
                    _ if !is_current() => {}
                    Change::Ready(r) => set_ready_state.set(r),
                    Change::Item(Ok(e)) => {
                        if history > 0 {
                            set_events.update(|h| {
                                if h.len() == history {
                                    h.pop_front();
                                }
                                h.push_back(e.clone());
                            });
                        }
                        set_event.set(Some(e));
                    }
                    Change::Item(Err(e)) => set_error.set(Some(HookError::Stream(e))),
                }));
            }
            Err(e) => {
                set_error.set(Some(HookError::Build(e)));
                set_ready_state.set(ReadyState::Closed);
            }
        }
    });
    on_cleanup(close);
    UseEventSource {
        ready_state,
        event,
        history: events,
        error,
        current,
    }
}
