//! Yew: [`use_event_source`], an [`EventSource`] that lives as long as the component, reopens when
//! its inputs change and renders what it receives.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use yew::prelude::*;

use crate::{Builder, Event, EventSource, HookError, ReadyState};

/// What the component renders from: the ready state, the latest event, a bounded history (newest
/// last) and the last error.
#[derive(Clone, Debug, PartialEq)]
pub struct EventSourceState {
    /// CONNECTING (or waiting to reconnect), OPEN or CLOSED.
    pub ready_state: ReadyState,
    /// The latest event.
    pub event: Option<Event>,
    /// Up to the hook's `history` latest events.
    pub history: VecDeque<Event>,
    /// The last error (a retried one too: see [`will_retry`](sse_web_core::reconnect::Error::will_retry)).
    pub error: Option<HookError>,
    limit: usize,
}

/// A change to [`EventSourceState`].
pub enum Update {
    /// The source was (re)opened: the state starts over.
    Reset,
    /// The ready state changed.
    Ready(ReadyState),
    /// An event arrived.
    Event(Event),
    /// An error happened.
    Error(HookError),
}

impl Reducible for EventSourceState {
    type Action = Update;

    fn reduce(self: Rc<Self>, update: Update) -> Rc<Self> {
        let mut s = Rc::unwrap_or_clone(self);
        match update {
            Update::Reset => {
                s = EventSourceState::new(s.limit);
            }
            Update::Ready(r) => s.ready_state = r,
            Update::Event(e) => {
                if s.limit > 0 {
                    if s.history.len() == s.limit {
                        s.history.pop_front();
                    }
                    s.history.push_back(e.clone());
                }
                s.event = Some(e);
            }
            Update::Error(e) => s.error = Some(e),
        }
        Rc::new(s)
    }
}

impl EventSourceState {
    fn new(limit: usize) -> Self {
        EventSourceState {
            ready_state: ReadyState::Connecting,
            event: None,
            history: VecDeque::with_capacity(limit),
            error: None,
            limit,
        }
    }
}

/// The hook's handle: the state to render, and [`UseEventSourceHandle::close`].
#[derive(Clone)]
pub struct UseEventSourceHandle {
    state: UseReducerHandle<EventSourceState>,
    current: Rc<RefCell<Option<Rc<EventSource>>>>,
}

impl PartialEq for UseEventSourceHandle {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

impl std::ops::Deref for UseEventSourceHandle {
    type Target = EventSourceState;
    fn deref(&self) -> &EventSourceState {
        &self.state
    }
}

impl UseEventSourceHandle {
    /// Closes the source now (it reopens only when the inputs change).
    pub fn close(&self) {
        if let Some(es) = self.current.borrow().as_ref() {
            es.close();
        }
    }
}

/// Opens `make(&deps)` and keeps it open while the component is mounted; reopens it when `deps`
/// (the URL, a token, the body...) change; closes it on unmount. Keeps the latest `history`
/// events.
///
/// ```no_run
/// use sse_web::yew::use_event_source;
/// use sse_web::EventSource;
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Chat(props: &ChatProps) -> Html {
///     let stream = use_event_source(props.prompt.clone(), 50, |prompt| {
///         EventSource::builder("/v1/chat").method("POST").body(prompt.clone())
///     });
///     html! { <p>{ for stream.history.iter().map(|e| e.data.clone()) }</p> }
/// }
/// # #[derive(Properties, PartialEq)] struct ChatProps { prompt: String }
/// ```
#[hook]
pub fn use_event_source<D, F>(deps: D, history: usize, make: F) -> UseEventSourceHandle
where
    D: PartialEq + 'static,
    F: FnOnce(&D) -> Builder + 'static,
{
    let state = use_reducer(move || EventSourceState::new(history));
    let current = use_mut_ref(|| None::<Rc<EventSource>>);
    {
        let updates = state.dispatcher();
        let current = current.clone();
        use_effect_with(deps, move |deps| {
            updates.dispatch(Update::Reset);
            match make(deps).connect() {
                Ok(es) => {
                    let es = Rc::new(es);
                    *current.borrow_mut() = Some(es.clone());
                    // What a replaced stream still hands out must not land in its successor's state.
                    let live = Rc::downgrade(&es);
                    let current = current.clone();
                    wasm_bindgen_futures::spawn_local(crate::event_source::drive(es, move |u| {
                        let is_current = current
                            .borrow()
                            .as_ref()
                            .is_some_and(|c| live.upgrade().is_some_and(|l| Rc::ptr_eq(c, &l)));
                        if !is_current {
                            return;
                        }
                        updates.dispatch(match u {
                            crate::event_source::Change::Ready(r) => Update::Ready(r),
                            crate::event_source::Change::Item(Ok(e)) => Update::Event(e),
                            crate::event_source::Change::Item(Err(e)) => {
                                Update::Error(HookError::Stream(e))
                            }
                        })
                    }));
                }
                Err(e) => {
                    updates.dispatch(Update::Error(HookError::Build(e)));
                    updates.dispatch(Update::Ready(ReadyState::Closed));
                }
            }
            move || {
                if let Some(es) = current.borrow_mut().take() {
                    es.close();
                }
            }
        });
    }
    UseEventSourceHandle { state, current }
}
