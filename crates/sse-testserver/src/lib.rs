//! The scenario server every sse test, benchmark and demo talks to.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! // In-process, on an ephemeral loopback port:
//! let server = sse_testserver::spawn().await?;
//! let url = format!("{}/echo?token=t1&end=close", server.url());
//! # Ok(()) }
//! ```
//!
//! Every endpoint answers CORS (preflights included), unless a script says `"cors": false`. A
//! request that carries `token=T` is logged under `T`; `GET /log?token=T` reads the log back as
//! JSON: each entry with the HTTP `version` (`HTTP/1.1`, `HTTP/2.0`) and the client's socket
//! address (`peer`), so streams that shared a connection share a peer.
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /script?token=T` | stores scripts (a JSON array, one per connection; the last repeats) |
//! | `/s?token=T` | plays the next stored script of `T` |
//! | `/inline?script=JSON` | plays one script given in the URL |
//! | `/counter?token=T&total=N` | events `1..=N` (id = data = n), resuming after `Last-Event-ID` (header or `lastEventId` query); `drops=K` cuts K connections at random byte offsets (`seed`; with `mid=1` never exactly between two events) or at byte `at` of the events, `interval=ms` paces; 204 once done |
//! | `/echo?token=T` | the method, headers and body back as events (`end=close` ends the stream) |
//! | `/auth?token=T` | 401 without `Authorization`; else its value back as an event |
//! | `/redirect?code=307&to=URL` | a redirect |
//! | `/bench?corpus=llm&n=N&chunk=B` | a benchmark corpus in writes of `B` bytes (default 16 KiB), as fast as the socket takes it |
//! | `/clock?n=N&interval=ms` | `N` events `interval` ms apart, each one's data the server's clock in Unix ms when written (latency) |
//! | `POST /chat?token=T&total=N&interval=ms` | an LLM-style answer to the JSON body's `prompt`, token by token (`id` n, data `{"n":n,"text":"..."}`), 401 without `Authorization`, resuming after `Last-Event-ID`; 204 once done |
//! | `/cut?token=T` | drops the live `/chat` connection of `T` at once (the demo's button) |
//! | `/lockstep?token=T&n=N` | events `1..=N` (id = data = k), each written only once the client acknowledged the one before with `/ack`: an event that is held anywhere (a compressor, a buffer) stalls the stream; `encoding=gzip\|br` compresses, flushed per event; waits at most 10 s for an ack, then ends; hangs after the last |
//! | `/ack?token=T&n=K` | acknowledges event `K` of `T`'s `/lockstep` stream; answers how many ms after its write it came |
//! | `/certificate` | the TLS listener as JSON: `url`, `spki` (the certificate's SubjectPublicKeyInfo, SHA-256, base64: what Chromium's `--ignore-certificate-errors-spki-list` takes) and `pem` |
//! | `/log?token=T` | the request log of `T` |
//!
//! A script: `{"status":200, "headers":[["X","y"]], "steps":[{"write":"data: a\n\n"},
//! {"hex":"efbbbf"}, {"sleep":50}, {"repeat":{"text":"x","times":9}}, {"trickle":{"text":"x","times":9}}],
//! "end":"close"}`; `end` is `close` (end the body), `hang` (never
//! end) or `reset` (break the connection). The content type is `text/event-stream` unless a
//! header names another. `"cors": false` answers without any CORS header (no
//! `Access-Control-Allow-Origin`): a browser blocks the response from a cross-origin page, as
//! from a server that forgot CORS (preflights are still answered; a cross-origin isolated page,
//! COEP `require-corp`, reads a no-cors answer only with a `Cross-Origin-Resource-Policy` header,
//! which the script's `headers` can add).

#![warn(missing_docs)]

pub mod corpus;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::routing::{any, get};
use axum::Router;
use serde::{Deserialize, Serialize};
use sse_web_core::encoder::{write_event, write_retry};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One connection's script.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Script {
    /// The HTTP status. Default 200.
    #[serde(default = "ok")]
    pub status: u16,
    /// Response headers.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// What to write, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// How the body ends.
    #[serde(default)]
    pub end: End,
    /// Compress the body (`gzip` or `br`), flushed after every step.
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// Send the CORS headers (default true); `false` answers without them, as a server that
    /// does not allow other origins.
    #[serde(default = "yes")]
    pub cors: bool,
}

fn yes() -> bool {
    true
}

/// Marks a response that goes out without CORS headers (a script's `"cors": false`).
#[derive(Clone, Copy)]
struct NoCors;

/// A content coding, flushed per write so that events arrive as they are written.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: br`.
    Br,
}

impl Encoding {
    fn from_query(q: &HashMap<String, String>) -> Option<Encoding> {
        match q.get("encoding").map(String::as_str) {
            Some("gzip") => Some(Encoding::Gzip),
            Some("br") => Some(Encoding::Br),
            _ => None,
        }
    }
}

enum Compressor {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Br(Box<brotli::CompressorWriter<Vec<u8>>>),
}

impl Compressor {
    fn new(e: Encoding) -> Compressor {
        match e {
            Encoding::Gzip => Compressor::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            )),
            Encoding::Br => Compressor::Br(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                5,
                22,
            ))),
        }
    }

    /// Compresses and flushes `chunk`, returning what is ready to send.
    fn push(&mut self, chunk: &[u8]) -> Bytes {
        use std::io::Write;
        let out = match self {
            Compressor::Gzip(w) => {
                let _ = w.write_all(chunk).and_then(|()| w.flush());
                std::mem::take(w.get_mut())
            }
            Compressor::Br(w) => {
                let _ = w.write_all(chunk).and_then(|()| w.flush());
                std::mem::take(w.get_mut())
            }
        };
        Bytes::from(out)
    }

    fn finish(self) -> Bytes {
        match self {
            Compressor::Gzip(w) => Bytes::from(w.finish().unwrap_or_default()),
            Compressor::Br(w) => Bytes::from(w.into_inner()),
        }
    }
}

/// The sending side of a streaming response.
struct Writer {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    compressor: Option<Compressor>,
}

impl Writer {
    /// Sends one chunk; false once the client has gone.
    async fn send(&mut self, chunk: Bytes) -> bool {
        let chunk = match &mut self.compressor {
            Some(c) => c.push(&chunk),
            None => chunk,
        };
        self.tx.send(Ok(chunk)).await.is_ok()
    }

    /// Ends the body as the script says.
    async fn end(mut self, end: End) {
        match end {
            End::Close => {
                if let Some(c) = self.compressor.take() {
                    let _ = self.tx.send(Ok(c.finish())).await;
                }
            }
            End::Hang => self.tx.closed().await,
            End::Reset => {
                // Let the server write out what was sent before breaking the connection.
                while self.tx.capacity() < self.tx.max_capacity() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                let _ = self.tx.send(Err(reset_error())).await;
            }
        }
    }
}

fn ok() -> u16 {
    200
}

/// One step of a script.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Write this text as one chunk.
    Write(String),
    /// Write these bytes (hex) as one chunk: invalid UTF-8, split code points.
    Hex(String),
    /// Wait this many milliseconds.
    Sleep(u64),
    /// Write `text` `times` times as one chunk (at most 64 MiB): an endless line, a huge event.
    Repeat {
        /// What to repeat.
        text: String,
        /// How often.
        times: usize,
    },
    /// Write `text` `times` times, each as a chunk of its own (at most 1 M chunks): a long line in
    /// tiny reads, which a parser that rescans what it carries cannot finish.
    Trickle {
        /// One chunk.
        text: String,
        /// How many.
        times: usize,
    },
}

/// How a scripted body ends.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// End the body cleanly.
    #[default]
    Close,
    /// Never end (until the client goes away).
    Hang,
    /// Break the connection (the client sees a network error).
    Reset,
}

/// One logged request.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct LogEntry {
    /// The method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers, names lowercase, values as UTF-8 (lossy).
    pub headers: Vec<(String, String)>,
    /// The body (lossy UTF-8).
    pub body: String,
    /// The `Last-Event-ID` header decoded as UTF-8, when sent.
    pub last_event_id: Option<String>,
    /// The HTTP version (`HTTP/1.1`, `HTTP/2.0`).
    pub version: String,
    /// The client's address: requests over one connection share it.
    pub peer: String,
    /// When the request arrived, in Unix ms.
    #[serde(default)]
    pub at: u64,
    /// When the response ended, in Unix ms: its body was sent to the end, or the client went away
    /// (seen at the next write, or at once while a script hangs). `None` while it is still open.
    #[serde(default)]
    pub ended: Option<u64>,
}

/// The server's clock, in Unix ms.
fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Stamps `ended` on a log entry when the response body it rides on is dropped.
struct EndStamp {
    state: AppState,
    token: String,
    index: usize,
}

impl Drop for EndStamp {
    fn drop(&mut self) {
        let at = unix_ms();
        self.state.with(&self.token, |t| {
            if let Some(e) = t.log.get_mut(self.index) {
                e.ended = Some(at);
            }
        });
    }
}

#[derive(Default)]
struct Token {
    scripts: Vec<Script>,
    played: usize,
    log: Vec<LogEntry>,
    drops_done: u32,
    /// `/cut` asked to drop the live `/chat` connection.
    cut: bool,
    /// The last `/lockstep` event acknowledged, and when each event was written (Unix ms).
    acks: Option<tokio::sync::watch::Sender<u64>>,
    written: Vec<u64>,
}

impl Token {
    fn acks(&mut self) -> &tokio::sync::watch::Sender<u64> {
        self.acks
            .get_or_insert_with(|| tokio::sync::watch::channel(0).0)
    }
}

#[derive(Clone, Default)]
struct AppState {
    tokens: Arc<Mutex<HashMap<String, Token>>>,
    /// The TLS listener, for `/certificate`.
    certificate: Arc<Certificate>,
    /// Generated corpora, so a benchmark measures the client, not the generator.
    corpora: Arc<Mutex<HashMap<(&'static str, usize), Bytes>>>,
}

impl AppState {
    fn with<R>(&self, token: &str, f: impl FnOnce(&mut Token) -> R) -> R {
        let mut map = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        f(map.entry(token.to_string()).or_default())
    }
}

/// The TLS listener's certificate, as `/certificate` serves it.
#[derive(Clone, Debug, Default, Serialize)]
struct Certificate {
    url: String,
    spki: String,
    pem: String,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    cross_origin: SocketAddr,
    tls: SocketAddr,
    certificate: Arc<Certificate>,
}

impl Server {
    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The base URL of the second listener, another origin with the same endpoints and state.
    pub fn cross_origin_url(&self) -> String {
        format!("http://{}", self.cross_origin)
    }
    /// The base URL of the TLS listener (HTTP/2 by ALPN, or HTTP/1.1), same endpoints and state.
    pub fn tls_url(&self) -> String {
        format!("https://localhost:{}", self.tls.port())
    }
    /// The TLS listener's self-signed certificate (made at start), for clients to trust.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate.pem
    }
    /// The SHA-256 of that certificate's SubjectPublicKeyInfo, base64: Chromium trusts it for a
    /// test with `--ignore-certificate-errors-spki-list=` this.
    pub fn certificate_spki(&self) -> &str {
        &self.certificate.spki
    }
}

/// Starts the server in-process on ephemeral loopback ports (tokio runtime required).
pub async fn spawn() -> std::io::Result<Server> {
    let main = TcpListener::bind("127.0.0.1:0").await?;
    let cross = TcpListener::bind("127.0.0.1:0").await?;
    let tls = TcpListener::bind("127.0.0.1:0").await?;
    serve(main, cross, tls, None).await
}

/// Starts the server on a multi-threaded runtime of its own thread (ephemeral loopback ports, as
/// [`spawn`]): a test's client then runs alone on the test's runtime, so the server's own work
/// (compressing a body, stamping the log) neither stalls the client's thread nor is delayed by it.
pub fn spawn_on_own_thread() -> std::io::Result<Server> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => return drop(tx.send(Err(e))),
        };
        rt.block_on(async {
            let started = spawn().await;
            let ok = started.is_ok();
            let _ = tx.send(started);
            if ok {
                std::future::pending::<()>().await
            }
        });
    });
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the server thread ended")))
}

/// Serves on the given listeners (plain, plain cross-origin, TLS); `static_dir` serves files at
/// `/` (the demo).
pub async fn serve(
    main: TcpListener,
    cross: TcpListener,
    tls: TcpListener,
    static_dir: Option<String>,
) -> std::io::Result<Server> {
    let (acceptor, pem, spki) = tls_acceptor()?;
    let certificate = Arc::new(Certificate {
        url: format!("https://localhost:{}", tls.local_addr()?.port()),
        spki,
        pem,
    });
    let state = AppState {
        certificate: certificate.clone(),
        ..AppState::default()
    };
    let app = router(state, static_dir);
    let server = Server {
        addr: main.local_addr()?,
        cross_origin: cross.local_addr()?,
        tls: tls.local_addr()?,
        certificate,
    };
    for listener in [main, cross] {
        let app = app.clone();
        // Without TCP_NODELAY the end of a response on a reused connection waits ~40 ms for
        // the delayed ACK (Nagle): every reconnect test would measure the server, not the client.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("sse-testserver: {e}");
            }
        });
    }
    tokio::spawn(serve_tls(tls, acceptor, app));
    Ok(server)
}

/// The acceptor, the certificate's PEM, and its SPKI's SHA-256 in base64.
fn tls_acceptor() -> std::io::Result<(tokio_rustls::TlsAcceptor, String, String)> {
    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};
    fn other(e: impl std::fmt::Display) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(other)?;
    let spki = {
        use rcgen::PublicKeyData;
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            &made.signing_key.subject_public_key_info(),
        );
        base64(digest.as_ref())
    };
    let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .map_err(other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        made.cert.pem(),
        spki,
    ))
}

/// Standard base64, padded.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = u32::from(c[0]) << 16
            | u32::from(c.get(1).copied().unwrap_or(0)) << 8
            | u32::from(c.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(ABC[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

async fn serve_tls(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, app: Router) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app
            .clone()
            .layer(axum::Extension(axum::extract::ConnectInfo(peer)));
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

fn router(state: AppState, static_dir: Option<String>) -> Router {
    let mut app = Router::new()
        .route("/script", any(store_script))
        .route("/s", any(play_stored))
        .route("/inline", any(play_inline))
        .route("/counter", any(counter))
        .route("/echo", any(echo))
        .route("/auth", any(auth))
        .route("/redirect", any(redirect))
        .route("/bench", any(bench))
        .route("/clock", any(clock))
        .route("/chat", any(chat))
        .route("/cut", any(cut))
        .route("/lockstep", any(lockstep))
        .route("/ack", any(ack))
        .route("/certificate", get(certificate))
        .route("/log", get(read_log));
    if let Some(dir) = static_dir {
        app = app.fallback_service(tower_http::services::ServeDir::new(dir));
    }
    app.layer(middleware::from_fn_with_state(state.clone(), log_and_cors))
        .with_state(state)
}

type Params = Query<HashMap<String, String>>;

/// CORS for every answer (but those marked [`NoCors`]), preflights answered here; requests with
/// `token` logged.
async fn log_and_cors(State(state): State<AppState>, req: Request, next: Next) -> Response<Body> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut res = if req.method() == Method::OPTIONS {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        if let Some(asked) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        res
    } else {
        let token = match req.uri().path() {
            "/log" | "/script" => None,
            _ => Query::<HashMap<String, String>>::try_from_uri(req.uri())
                .ok()
                .and_then(|Query(mut q)| q.remove("token")),
        };
        match token {
            Some(token) => {
                let (parts, body) = req.into_parts();
                let peer = parts
                    .extensions
                    .get::<axum::extract::ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.to_string())
                    .unwrap_or_default();
                let bytes = axum::body::to_bytes(body, 16 << 20)
                    .await
                    .unwrap_or_default();
                let entry = LogEntry {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_string(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                    body: String::from_utf8_lossy(&bytes).into_owned(),
                    last_event_id: parts
                        .headers
                        .get("last-event-id")
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
                    version: format!("{:?}", parts.version),
                    peer,
                    at: unix_ms(),
                    ended: None,
                };
                let index = state.with(&token, |t| {
                    t.log.push(entry);
                    t.log.len() - 1
                });
                let stamp = EndStamp {
                    state: state.clone(),
                    token,
                    index,
                };
                let res = next
                    .run(Request::from_parts(parts, Body::from(bytes)))
                    .await;
                let (parts, body) = res.into_parts();
                let body = futures_util::StreamExt::map(body.into_data_stream(), move |chunk| {
                    let _ = &stamp;
                    chunk
                });
                Response::from_parts(parts, Body::from_stream(body))
            }
            None => next.run(req).await,
        }
    };
    if res.extensions().get::<NoCors>().is_some() {
        return res;
    }
    let h = res.headers_mut();
    match origin {
        Some(o) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        None => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after, x-sse-testserver, x-request-id, www-authenticate"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    res
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut res = Response::new(Body::from(text.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

async fn store_script(
    State(state): State<AppState>,
    Query(q): Params,
    body: Bytes,
) -> Response<Body> {
    let Some(token) = q.get("token") else {
        return plain(StatusCode::BAD_REQUEST, "token required");
    };
    match serde_json::from_slice::<Vec<Script>>(&body) {
        Ok(scripts) => {
            state.with(token, |t| {
                t.scripts = scripts;
                t.played = 0;
            });
            plain(StatusCode::OK, "stored")
        }
        Err(e) => plain(StatusCode::BAD_REQUEST, &format!("bad script: {e}")),
    }
}

async fn play_stored(State(state): State<AppState>, Query(q): Params) -> Response<Body> {
    let Some(token) = q.get("token") else {
        return plain(StatusCode::BAD_REQUEST, "token required");
    };
    let script = state.with(token, |t| {
        let s = t
            .scripts
            .get(t.played.min(t.scripts.len().saturating_sub(1)))
            .cloned();
        t.played += 1;
        s
    });
    match script {
        Some(s) => play(s),
        None => plain(StatusCode::NOT_FOUND, "no script stored for this token"),
    }
}

async fn play_inline(Query(q): Params) -> Response<Body> {
    match q.get("script").map(|s| serde_json::from_str::<Script>(s)) {
        Some(Ok(s)) => play(s),
        Some(Err(e)) => plain(StatusCode::BAD_REQUEST, &format!("bad script: {e}")),
        None => plain(StatusCode::BAD_REQUEST, "script required"),
    }
}

/// A streaming response fed by a task through the returned writer; an `Err` item breaks the
/// connection.
fn streaming(
    status: u16,
    headers: &[(String, String)],
    encoding: Option<Encoding>,
) -> (Response<Body>, Writer) {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut res = Response::new(Body::from_stream(stream));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
    }
    for (n, v) in headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::try_from(n.as_str()),
            HeaderValue::try_from(v.as_str()),
        ) {
            h.append(n, v);
        }
    }
    match encoding {
        Some(Encoding::Gzip) => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))
        }
        Some(Encoding::Br) => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
        None => None,
    };
    let writer = Writer {
        tx,
        compressor: encoding.map(Compressor::new),
    };
    (res, writer)
}

fn reset_error() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "scripted reset")
}

fn play(script: Script) -> Response<Body> {
    let (mut res, mut out) = streaming(script.status, &script.headers, script.encoding);
    if !script.cors {
        res.extensions_mut().insert(NoCors);
    }
    tokio::spawn(async move {
        for step in script.steps {
            let chunk = match step {
                Step::Write(s) => Bytes::from(s),
                Step::Hex(h) => Bytes::from(hex(&h)),
                Step::Repeat { text, times } => {
                    Bytes::from(text.repeat(times.min((64 << 20) / text.len().max(1))))
                }
                Step::Sleep(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    continue;
                }
                Step::Trickle { text, times } => {
                    let chunk = Bytes::from(text);
                    for _ in 0..times.min(1 << 20) {
                        if !out.send(chunk.clone()).await {
                            return;
                        }
                    }
                    continue;
                }
            };
            if !out.send(chunk).await {
                return;
            }
        }
        out.end(script.end).await;
    });
    res
}

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter_map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    digits
        .chunks(2)
        .map(|p| p[0] << 4 | p.get(1).copied().unwrap_or(0))
        .collect()
}

fn end_of(q: &HashMap<String, String>, default: End) -> End {
    match q.get("end").map(String::as_str) {
        Some("close") => End::Close,
        Some("hang") => End::Hang,
        Some("reset") => End::Reset,
        _ => default,
    }
}

fn num<T: std::str::FromStr>(q: &HashMap<String, String>, name: &str, default: T) -> T {
    q.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn counter(
    State(state): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response<Body> {
    let total: u64 = num(&q, "total", 100);
    let interval: u64 = num(&q, "interval", 0);
    let drops: u32 = num(&q, "drops", 0);
    let seed: u64 = num(&q, "seed", 1);
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(q.get("lastEventId").map(String::as_str))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if last >= total {
        return plain(StatusCode::NO_CONTENT, "");
    }
    let token = q.get("token").cloned().unwrap_or_default();
    let at: Option<usize> = q.get("at").and_then(|v| v.parse().ok());
    // Inside an event only: a cut exactly between two events is, on WebKit, a clean end.
    let mid = q.get("mid").is_some_and(|v| v == "1");
    // Whether this connection is cut, and after how many bytes (`at`, or random per seed).
    let cut = state.with(&token, |t| {
        (t.drops_done < drops).then(|| {
            t.drops_done += 1;
            let mut x = seed ^ (u64::from(t.drops_done) << 32 | last);
            x ^= x >> 33;
            x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
            x ^= x >> 33;
            at.unwrap_or(1 + (x % 120) as usize)
        })
    });
    let (res, mut tx) = streaming(200, &[], Encoding::from_query(&q));
    tokio::spawn(async move {
        let mut sent = 0usize;
        let mut out = Vec::new();
        write_retry(&mut out, num(&q, "retry", 0));
        for n in last + 1..=total {
            let id = n.to_string();
            let start = out.len();
            let _ = write_event(&mut out, None, Some(&id), &id);
            if let Some(cut) = cut {
                if sent + out.len() >= cut {
                    let mut keep = cut - sent;
                    if mid && at.is_none() {
                        keep = keep.clamp(start + 1, out.len() - 1);
                    }
                    tx.send(Bytes::copy_from_slice(&out[..keep])).await;
                    tx.end(End::Reset).await;
                    return;
                }
            }
            sent += out.len();
            if !tx.send(Bytes::from(std::mem::take(&mut out))).await {
                return;
            }
            if interval > 0 {
                tokio::time::sleep(Duration::from_millis(interval)).await;
            }
        }
        tx.end(End::Close).await;
    });
    res
}

async fn echo(Query(q): Params, method: Method, headers: HeaderMap, body: Bytes) -> Response<Body> {
    let mut out = Vec::new();
    let _ = write_event(&mut out, Some("method"), None, method.as_str());
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let _ = write_event(
        &mut out,
        Some("headers"),
        None,
        &serde_json::to_string(&pairs).unwrap_or_default(),
    );
    let _ = write_event(
        &mut out,
        Some("body"),
        None,
        &String::from_utf8_lossy(&body),
    );
    if let Some(id) = headers.get("last-event-id") {
        let _ = write_event(
            &mut out,
            Some("last-event-id"),
            None,
            &String::from_utf8_lossy(id.as_bytes()),
        );
    }
    respond_then(out, &q)
}

/// Sends `out`, then ends as the query's `end` says (default: hang), compressed as it says.
fn respond_then(out: Vec<u8>, q: &HashMap<String, String>) -> Response<Body> {
    let end = end_of(q, End::Hang);
    let (res, mut tx) = streaming(200, &[], Encoding::from_query(q));
    tokio::spawn(async move {
        if tx.send(Bytes::from(out)).await {
            tx.end(end).await;
        }
    });
    res
}

async fn auth(Query(q): Params, headers: HeaderMap) -> Response<Body> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        let mut res = plain(StatusCode::UNAUTHORIZED, "Authorization required");
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    };
    let mut out = Vec::new();
    let _ = write_event(
        &mut out,
        Some("authorized"),
        None,
        &String::from_utf8_lossy(value.as_bytes()),
    );
    respond_then(out, &q)
}

async fn redirect(Query(q): Params) -> Response<Body> {
    let code: u16 = num(&q, "code", 307);
    let to = q.get("to").cloned().unwrap_or_else(|| "/echo".into());
    let mut res = plain(
        StatusCode::from_u16(code).unwrap_or(StatusCode::TEMPORARY_REDIRECT),
        "",
    );
    if let Ok(v) = HeaderValue::try_from(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

async fn bench(State(state): State<AppState>, Query(q): Params) -> Response<Body> {
    let Some(corpus) = q.get("corpus").and_then(|c| corpus::Corpus::from_name(c)) else {
        return plain(
            StatusCode::BAD_REQUEST,
            "corpus must be llm, multiline, large or llm-crlf",
        );
    };
    let n = num(&q, "n", corpus.default_events());
    let chunk = num(&q, "chunk", 16 * 1024).max(1);
    let bytes = {
        let mut cache = state.corpora.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry((corpus.name(), n))
            .or_insert_with(|| Bytes::from(corpus.generate(n)))
            .clone()
    };
    let (res, mut tx) = streaming(200, &[], Encoding::from_query(&q));
    tokio::spawn(async move {
        let mut start = 0;
        while start < bytes.len() {
            let end = (start + chunk).min(bytes.len());
            if !tx.send(bytes.slice(start..end)).await {
                return;
            }
            start = end;
        }
        tx.end(End::Close).await;
    });
    res
}

/// `n` events `interval` ms apart, each one's data the server's clock (Unix ms, fractional) at the
/// moment it is written: the client's receive time minus it is the write-to-handler latency.
async fn clock(Query(q): Params) -> Response<Body> {
    let n: usize = num(&q, "n", 100);
    let interval = Duration::from_millis(num(&q, "interval", 10));
    let (res, mut tx) = streaming(200, &[], Encoding::from_query(&q));
    tokio::spawn(async move {
        for _ in 0..n {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros() as f64
                / 1000.0;
            if !tx.send(Bytes::from(format!("data: {now:.3}\n\n"))).await {
                return;
            }
            tokio::time::sleep(interval).await;
        }
        tx.end(End::Close).await;
    });
    res
}

async fn chat(
    State(state): State<AppState>,
    Query(q): Params,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if !headers.contains_key(header::AUTHORIZATION) {
        return plain(StatusCode::UNAUTHORIZED, "Authorization required");
    }
    let total: u64 = num(&q, "total", 400);
    let interval: u64 = num(&q, "interval", 40);
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if last >= total {
        return plain(StatusCode::NO_CONTENT, "");
    }
    let prompt = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("prompt").and_then(|p| p.as_str()).map(String::from))
        .unwrap_or_else(|| "Server-Sent Events".into());
    let words: Vec<String> = format!(
        "You asked about {prompt}. Here is a long answer, streamed one token at a time over a \
         POST with a JSON body and an Authorization header that the client refreshes before \
         every reconnect. Press the cut button: the server drops the connection, the client \
         waits the reconnection time, sends Last-Event-ID, and the answer goes on from the next \
         token, with nothing lost and nothing repeated. "
    )
    .split_inclusive(' ')
    .map(String::from)
    .collect();
    let token = q.get("token").cloned().unwrap_or_default();
    state.with(&token, |t| t.cut = false);
    let (res, mut tx) = streaming(200, &[], Encoding::from_query(&q));
    tokio::spawn(async move {
        let mut out = Vec::new();
        write_retry(&mut out, num(&q, "retry", 1000));
        for n in last + 1..=total {
            if state.with(&token, |t| std::mem::take(&mut t.cut)) {
                tx.end(End::Reset).await;
                return;
            }
            let word = &words[(n as usize - 1) % words.len()];
            let data = serde_json::json!({ "n": n, "text": word }).to_string();
            let _ = write_event(&mut out, None, Some(&n.to_string()), &data);
            if !tx.send(Bytes::from(std::mem::take(&mut out))).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(interval)).await;
        }
        tx.end(End::Close).await;
    });
    res
}

async fn cut(State(state): State<AppState>, Query(q): Params) -> Response<Body> {
    let token = q.get("token").cloned().unwrap_or_default();
    state.with(&token, |t| t.cut = true);
    plain(StatusCode::OK, "cut")
}

/// Events `1..=n`, each written once the one before was acknowledged (`/ack`).
async fn lockstep(State(state): State<AppState>, Query(q): Params) -> Response<Body> {
    let n: u64 = num(&q, "n", 10);
    let token = q.get("token").cloned().unwrap_or_default();
    let mut acked = state.with(&token, |t| {
        t.written.clear();
        t.acks().send_replace(0);
        t.acks().subscribe()
    });
    let (res, mut tx) = streaming(200, &[], Encoding::from_query(&q));
    tokio::spawn(async move {
        let mut out = Vec::new();
        for k in 1..=n {
            if k > 1 {
                let ack = acked.wait_for(|&a| a >= k - 1);
                if !matches!(
                    tokio::time::timeout(Duration::from_secs(10), ack).await,
                    Ok(Ok(_))
                ) {
                    return tx.end(End::Close).await;
                }
            }
            let id = k.to_string();
            let _ = write_event(&mut out, None, Some(&id), &id);
            state.with(&token, |t| t.written.push(unix_ms()));
            if !tx.send(Bytes::from(std::mem::take(&mut out))).await {
                return;
            }
        }
        tx.end(End::Hang).await;
    });
    res
}

/// Acknowledges a `/lockstep` event; answers the ms since it was written (empty if it was not).
async fn ack(State(state): State<AppState>, Query(q): Params) -> Response<Body> {
    let token = q.get("token").cloned().unwrap_or_default();
    let k: u64 = num(&q, "n", 0);
    let since = state.with(&token, |t| {
        t.acks().send_modify(|a| *a = (*a).max(k));
        let at = t.written.get((k as usize).wrapping_sub(1)).copied();
        at.map(|at| unix_ms().saturating_sub(at).to_string())
    });
    plain(StatusCode::OK, &since.unwrap_or_default())
}

async fn certificate(State(state): State<AppState>) -> Response<Body> {
    let mut res = Response::new(Body::from(
        serde_json::to_string(&*state.certificate).unwrap_or_default(),
    ));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

async fn read_log(State(state): State<AppState>, Query(q): Params) -> Response<Body> {
    let token = q.get("token").cloned().unwrap_or_default();
    let log = state.with(&token, |t| {
        serde_json::to_string(&t.log).unwrap_or_default()
    });
    let mut res = Response::new(Body::from(log));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
