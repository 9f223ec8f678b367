//! `ferroweb-ceiling`: the benchmark workloads answered by plain axum + tokio, with no Python.
//!
//! It serves the same routes as the Python benchmark apps, so its numbers are the upper bound
//! of what ferroweb (Rust HTTP core + Python handlers) can reach on the same machine.
//!
//! Usage: `ferroweb-ceiling --host 127.0.0.1 --port 8000 [--threads 1]`

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ws::{self, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

const USAGE: &str = "usage: ferroweb-ceiling [--host HOST] [--port PORT] [--threads N]";

/// How long in-flight requests may run after SIGTERM/SIGINT before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";
const OCTET_STREAM: &str = "application/octet-stream";
const PROBLEM_JSON: &str = "application/problem+json";

/// Command-line options.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    host: String,
    port: u16,
    threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8000,
            threads: 1,
        }
    }
}

/// Parses `--host H --port N --threads N` (also `--flag=value`); `Err` carries the message.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
        };
        match flag.as_str() {
            "--host" => options.host = value,
            "--port" => {
                options.port = value
                    .parse()
                    .map_err(|_| format!("--port: {value:?} is not a port number"))?;
            }
            "--threads" => {
                options.threads = value
                    .parse()
                    .ok()
                    .filter(|threads| (1..=1024).contains(threads))
                    .ok_or_else(|| format!("--threads: {value:?} is not between 1 and 1024"))?;
            }
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    if options.host.trim().is_empty() {
        return Err("--host must not be empty".to_owned());
    }
    Ok(options)
}

/// The benchmark application.
fn app() -> Router {
    Router::new()
        .route("/", get(json))
        .route("/json", get(json))
        .route("/plaintext", get(plaintext))
        .route("/echo", post(echo))
        .route("/items", post(create_item))
        .route("/items/{item_id}", get(read_item))
        .route("/async-sleep", get(async_sleep))
        .route("/stream-1mb", get(stream_1mb))
        .route("/ws", get(ws_echo))
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A JSON response; serialising these plain structs cannot fail, but a failure is a 500.
fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => respond(status, JSON, body),
        Err(err) => problem(StatusCode::INTERNAL_SERVER_ERROR, &err.to_string()),
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: &'a str,
}

/// An RFC 9457 problem-details error, the shape ferroweb answers errors with.
fn problem(status: StatusCode, detail: &str) -> Response {
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    respond(status, PROBLEM_JSON, body)
}

async fn plaintext() -> Response {
    respond(StatusCode::OK, TEXT, Bytes::from_static(b"Hello, World!"))
}

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn json() -> Response {
    json_response(
        StatusCode::OK,
        &Message {
            message: "Hello, World!",
        },
    )
}

async fn echo(body: Bytes) -> Response {
    let mut response = respond(StatusCode::CREATED, OCTET_STREAM, body);
    response
        .headers_mut()
        .insert("x-echo", HeaderValue::from_static("1"));
    response
}

#[derive(Serialize)]
struct ItemRead {
    item_id: i64,
    q: String,
}

async fn read_item(Path(item_id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Ok(item_id) = item_id.parse::<i64>() else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "path parameter item_id: not a valid integer",
        );
    };
    let q = query.as_deref().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "q")
            .map(|(_, value)| value.into_owned())
    });
    let Some(q) = q else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "query parameter q: field required",
        );
    };
    json_response(StatusCode::OK, &ItemRead { item_id, q })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    name: String,
    price: f64,
    tags: Vec<String>,
    description: String,
}

async fn create_item(body: Bytes) -> Response {
    match serde_json::from_slice::<Item>(&body) {
        Ok(item) => json_response(StatusCode::OK, &item),
        Err(err) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("invalid item: {err}"),
        ),
    }
}

#[derive(Serialize)]
struct Slept {
    slept: bool,
}

async fn async_sleep() -> Response {
    tokio::time::sleep(Duration::from_millis(1)).await;
    json_response(StatusCode::OK, &Slept { slept: true })
}

/// One chunk of the streamed workload.
static CHUNK: [u8; 65536] = [b'x'; 65536];
/// Chunks per `/stream-1mb` response (16 x 64 KiB = 1 MiB).
const STREAM_CHUNKS: usize = 16;

/// 1 MiB sent as a stream of 64 KiB chunks (chunked transfer encoding, as the Python apps do).
async fn stream_1mb() -> Response {
    let chunks = futures_util::stream::iter(
        (0..STREAM_CHUNKS).map(|_| Ok::<_, std::convert::Infallible>(Bytes::from_static(&CHUNK))),
    );
    respond(StatusCode::OK, OCTET_STREAM, Body::from_stream(chunks))
}

/// WebSocket echo: every text (or binary) message is sent back until the client closes.
async fn ws_echo(upgrade: WebSocketUpgrade) -> Response {
    // The read chunk ferroweb uses: tungstenite zeroes the whole chunk before every read, and
    // its 128 KiB default costs more than the rest of a small message's trip.
    upgrade
        .read_buffer_size(16 * 1024)
        .on_upgrade(echo_messages)
}

async fn echo_messages(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            ws::Message::Text(_) | ws::Message::Binary(_) => message,
            ws::Message::Close(_) => break,
            ws::Message::Ping(_) | ws::Message::Pong(_) => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No handler could be installed: rely on SIGTERM alone.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

async fn serve(options: &Options) -> io::Result<()> {
    let listener = TcpListener::bind((options.host.as_str(), options.port)).await?;
    let addr = listener.local_addr()?;
    eprintln!(
        "ferroweb-ceiling listening on http://{addr} ({} worker thread(s))",
        options.threads
    );
    let listener =
        axum::serve::ListenerExt::tap_io(listener, |stream: &mut tokio::net::TcpStream| {
            // Small responses must not wait for Nagle's algorithm.
            let _ = stream.set_nodelay(true);
        });

    let (stop, stopping) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.send_replace(true);
    });
    let mut graceful = stopping.clone();
    let server = axum::serve(listener, app()).with_graceful_shutdown(async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    });
    let mut deadline = stopping;
    let overdue = async move {
        if deadline.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result?,
        () = overdue => eprintln!("ferroweb-ceiling: connections still open after {SHUTDOWN_GRACE:?}, exiting"),
    }
    eprintln!("ferroweb-ceiling stopped");
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            if message != USAGE {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
            return ExitCode::SUCCESS;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads)
        .thread_name("ceiling-rt")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("ferroweb-ceiling: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "ferroweb-ceiling: cannot serve on {}:{}: {err}",
                options.host, options.port
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn call(request: Request<Body>) -> (StatusCode, Option<String>, Bytes) {
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, content_type, body)
    }

    fn get_request(uri: &str) -> Request<Body> {
        Request::get(uri).body(Body::empty()).unwrap()
    }

    fn post_request(uri: &str, body: &'static str) -> Request<Body> {
        Request::post(uri).body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn hello_routes() {
        let (status, kind, body) = call(get_request("/plaintext")).await;
        assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some(TEXT)));
        assert_eq!(&body[..], b"Hello, World!");
        for uri in ["/json", "/"] {
            let (status, kind, body) = call(get_request(uri)).await;
            assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some(JSON)));
            assert_eq!(&body[..], br#"{"message":"Hello, World!"}"#);
        }
        let (status, kind, body) = call(get_request("/async-sleep")).await;
        assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some(JSON)));
        assert_eq!(&body[..], br#"{"slept":true}"#);
    }

    #[tokio::test]
    async fn echo_answers_201_with_the_body() {
        let response = app()
            .oneshot(post_request("/echo", "some bytes"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()["x-echo"], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], OCTET_STREAM);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"some bytes");
    }

    #[tokio::test]
    async fn items_are_validated() {
        let (status, _, body) = call(get_request("/items/42?q=hello%20world")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], br#"{"item_id":42,"q":"hello world"}"#);
        let (status, kind, _) = call(get_request("/items/abc?q=x")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(kind.as_deref(), Some(PROBLEM_JSON));
        let (status, _, _) = call(get_request("/items/1")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        let item = r#"{"name":"Foo","price":1.5,"tags":["a","b"],"description":"d"}"#;
        let (status, kind, body) = call(post_request("/items", item)).await;
        assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some(JSON)));
        assert_eq!(&body[..], item.as_bytes());
        let (status, _, _) = call(post_request("/items", r#"{"name":"Foo"}"#)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _, _) = call(post_request("/items", "not json")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[tokio::test]
    async fn stream_1mb_is_16_chunks_of_x() {
        let (status, kind, body) = call(get_request("/stream-1mb")).await;
        assert_eq!(
            (status, kind.as_deref()),
            (StatusCode::OK, Some(OCTET_STREAM))
        );
        assert_eq!(body.len(), 1024 * 1024);
        assert!(body.iter().all(|&byte| byte == b'x'));
    }

    #[tokio::test]
    async fn websocket_echo() {
        use futures_util::{SinkExt, StreamExt};
        use tokio_tungstenite::tungstenite::Message as Client;

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app()).await });
        let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        for text in ["hello", "world"] {
            socket.send(Client::text(text)).await.unwrap();
            let echo = socket.next().await.unwrap().unwrap();
            assert_eq!(echo, Client::text(text));
        }
        socket.close(None).await.unwrap();
    }

    #[test]
    fn arguments() {
        let args = |list: &[&str]| parse_args(list.iter().map(|arg| (*arg).to_owned()));
        assert_eq!(args(&[]).unwrap(), Options::default());
        let options = args(&["--host", "0.0.0.0", "--port=9000", "--threads", "4"]).unwrap();
        assert_eq!(
            options,
            Options {
                host: "0.0.0.0".to_owned(),
                port: 9000,
                threads: 4,
            }
        );
        assert!(args(&["--port", "x"]).is_err());
        assert!(args(&["--threads", "0"]).is_err());
        assert!(args(&["--port"]).is_err());
        assert!(args(&["--bogus", "1"]).is_err());
    }
}
