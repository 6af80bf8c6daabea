//! A test helper (not the clients' transport, which is `src/js/io.js`): the realm's global `fetch`, and a response body read chunk by chunk.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, ReadableStreamDefaultReader, ReadableStreamReadResult, RequestInit,
};

/// What to send: method, headers, body, and an abort controller for the whole exchange.
pub struct Init {
    init: RequestInit,
    headers: Headers,
    controller: Option<AbortController>,
}

impl Init {
    /// A request with `method`, cache mode `no-store` (as `EventSource`), and its own abort
    /// controller.
    pub fn new(method: &str) -> Init {
        let init = RequestInit::new();
        init.set_method(method);
        init.set_cache(web_sys::RequestCache::NoStore);
        let headers = Headers::new().unwrap_or_else(|_| JsValue::UNDEFINED.unchecked_into());
        let controller = AbortController::new().ok();
        if let Some(c) = &controller {
            init.set_signal(Some(&c.signal()));
        }
        Init {
            init,
            headers,
            controller,
        }
    }

    /// Adds a header. The value's UTF-8 bytes are sent as they are (fetch takes byte strings, so
    /// a non-ASCII value, such as a `Last-Event-ID`, is passed one byte per code unit).
    pub fn header(&mut self, name: &str, value: &str) -> &mut Init {
        // An invalid name or value is dropped by the platform's own check.
        let _ = self
            .headers
            .append(name, &value.bytes().map(char::from).collect::<String>());
        self
    }

    /// Sets the body (sent as bytes).
    pub fn body(&mut self, body: &[u8]) -> &mut Init {
        self.init.set_body(&Uint8Array::from(body).into());
        self
    }

    /// Aborts the request and its body stream: a pending read rejects with `AbortError`.
    pub fn abort(&self) {
        if let Some(c) = &self.controller {
            c.abort();
        }
    }
}

/// A response head, and the way to its body.
pub struct Response {
    inner: web_sys::Response,
}

impl Response {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.inner.status()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.inner.headers().get(name).ok().flatten()
    }

    /// The body, to read chunk by chunk.
    pub fn body(&self) -> Result<Body, JsValue> {
        let stream = self
            .inner
            .body()
            .ok_or_else(|| JsValue::from_str("the response has no body"))?;
        let reader = stream
            .get_reader()
            .unchecked_into::<ReadableStreamDefaultReader>();
        Ok(Body { reader })
    }
}

/// A response body being read.
pub struct Body {
    reader: ReadableStreamDefaultReader,
}

impl Body {
    /// The next chunk as it arrives; `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Vec<u8>>, JsValue> {
        let result: ReadableStreamReadResult =
            JsFuture::from(self.reader.read()).await?.unchecked_into();
        if result.get_done().unwrap_or(false) {
            return Ok(None);
        }
        Ok(Some(
            result.get_value().unchecked_into::<Uint8Array>().to_vec(),
        ))
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        // Stop the download: cancel() returns a promise nobody needs to await.
        let _ = self.reader.cancel();
    }
}

/// Fetches `url` with the realm's global `fetch` (Window, Worker or Node).
pub async fn fetch(url: &str, init: &Init) -> Result<Response, JsValue> {
    let global = js_sys::global();
    let fetch: Function = Reflect::get(&global, &JsValue::from_str("fetch"))?
        .dyn_into()
        .map_err(|_| JsValue::from_str("this realm has no global fetch"))?;
    init.init.set_headers(&init.headers);
    let promise: Promise = fetch
        .call2(&global, &JsValue::from_str(url), &init.init)?
        .unchecked_into();
    let inner: web_sys::Response = JsFuture::from(promise).await?.unchecked_into();
    Ok(Response { inner })
}
