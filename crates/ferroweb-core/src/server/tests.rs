use std::sync::mpsc as std_mpsc;

use bytes::Bytes;
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::dispatch::Dispatch;
use crate::request::PendingRequest;
use crate::response::{ContentKind, HandlerResponse};
use crate::router::{RouteSpec, RouteTable};

/// Answers "ok" after the delay given in the `x-delay-ms` header, on a plain thread.
struct SlowEcho;

impl Dispatch for SlowEcho {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        let delay = request
            .headers
            .get("x-delay-ms")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay));
            request.reply.send(HandlerResponse::new(
                StatusCode::OK,
                ContentKind::Text,
                Bytes::from_static(b"ok"),
            ));
        });
        Ok(())
    }
}

fn start(config: ServerConfig) -> (ServerHandle, std_mpsc::Receiver<bool>) {
    let table = RouteTable::new([RouteSpec::http(0, "/", vec![Method::GET])]).unwrap();
    let service = AppService::new(&table, Arc::new(SlowEcho), &config);
    let (stopped_tx, stopped_rx) = std_mpsc::channel();
    let handle = Server::start(
        &config,
        service,
        Box::new(move |drained| {
            let _ = stopped_tx.send(drained);
        }),
    )
    .unwrap();
    (handle, stopped_rx)
}

fn config() -> ServerConfig {
    ServerConfig {
        port: 0,
        ..ServerConfig::default()
    }
}

async fn send(stream: &mut TcpStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn keep_alive_reuses_then_idle_connection_closes() {
    let (handle, _) = start(ServerConfig {
        keep_alive_timeout: Some(Duration::from_millis(300)),
        ..config()
    });
    let mut stream = TcpStream::connect(handle.local_addr()).await.unwrap();
    for _ in 0..3 {
        let answer = send(&mut stream, "GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let started = Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "idle connection was not closed");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

async fn send_head_and_read_all(handle: &ServerHandle, header_len: usize) -> String {
    let mut stream = TcpStream::connect(handle.local_addr()).await.unwrap();
    let big = "a".repeat(header_len);
    let request = format!("GET / HTTP/1.1\r\nx-big: {big}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let (handle, _) = start(ServerConfig {
        max_header_size: 2048,
        ..config()
    });
    // hyper answers an oversized head with 431 and a close, but its parse-error path does
    // not always flush the 431 before closing (timing-dependent, inside hyper). What must
    // hold is that the request never reaches a handler and the server keeps serving.
    for header_len in [2500, 32 * 1024] {
        let answer = send_head_and_read_all(&handle, header_len).await;
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
            "{answer:?}"
        );
    }
    let mut stream = TcpStream::connect(handle.local_addr()).await.unwrap();
    let answer = send(&mut stream, "GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let (handle, stopped) = start(config());
    let addr = handle.local_addr();
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            send(
                &mut stream,
                "GET / HTTP/1.1\r\nhost: x\r\nx-delay-ms: 300\r\n\r\n",
            )
            .await
        }));
    }
    // An idle keep-alive connection must not hold shutdown open.
    let _idle = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.shutdown();
    for client in clients {
        assert!(client.await.unwrap().starts_with("HTTP/1.1 200"));
    }
    let drained = tokio::task::spawn_blocking(move || stopped.recv_timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(drained, Ok(true));
    assert!(handle.is_stopped());
    assert!(TcpStream::connect(addr).await.is_err());
    tokio::task::spawn_blocking(move || handle.close(Duration::from_secs(1)))
        .await
        .unwrap();
}

#[test]
fn bind_conflict_is_an_error_not_a_panic() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let service = AppService::new(&RouteTable::default(), Arc::new(SlowEcho), &config());
    let result = Server::start(
        &ServerConfig { port, ..config() },
        service,
        Box::new(|_| {}),
    );
    assert!(matches!(result, Err(ServerError::Bind { .. })));
}

#[test]
fn invalid_config_is_rejected_before_binding() {
    let service = AppService::new(&RouteTable::default(), Arc::new(SlowEcho), &config());
    let result = Server::start(
        &ServerConfig {
            runtime_threads: 0,
            ..config()
        },
        service,
        Box::new(|_| {}),
    );
    assert!(matches!(result, Err(ServerError::Config(_))));
}

#[test]
fn reuse_port_lets_workers_share_a_port_and_only_then() {
    let service = || AppService::new(&RouteTable::default(), Arc::new(SlowEcho), &config());
    let shared = ServerConfig {
        reuse_port: true,
        ..config()
    };
    let first = Server::start(&shared, service(), Box::new(|_| {})).unwrap();
    let port = first.local_addr().port();
    let second = Server::start(
        &ServerConfig { port, ..shared },
        service(),
        Box::new(|_| {}),
    );
    assert!(second.is_ok(), "a second worker could not share the port");
    let exclusive = Server::start(
        &ServerConfig { port, ..config() },
        service(),
        Box::new(|_| {}),
    );
    assert!(matches!(exclusive, Err(ServerError::Bind { .. })));
}
