//! Micro-benchmarks of ferroweb-core's per-request building blocks.
//!
//! `cargo bench -p ferroweb-core --bench core -- --warm-up-time 1 --measurement-time 3`
//!
//! - `route_match`: matchit (the matcher inside axum's `Router`) over the 200-route table
//!   that the `RouteTable` below is built from; reported as matches per second.
//! - `in_process`: one whole request through `AppService::call_in_process` (axum routing,
//!   path parameters, body limit, hand-over to a `Dispatch` that answers at once, response).
//! - `problem`: rendering a problem-details body.
//! - `header_parse`: an HTTP/1.1 request head parsed with httparse (hyper's parser) into a
//!   `HeaderMap`.

// Benchmark set-up panics on broken invariants (invalid routes, a runtime that cannot start);
// there is nothing to recover to.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferroweb_core::{
    AppService, ContentKind, Dispatch, HandlerResponse, PendingRequest, Problem, RouteSpec,
    RouteTable, ServerConfig,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};

/// Resources in the table; each contributes five routes, so 200 routes in all.
const RESOURCES: usize = 40;

/// The path templates of the benchmark table: per resource a collection, a search endpoint,
/// one item, an item's sub-collection and one sub-item.
fn templates() -> Vec<String> {
    let mut templates = Vec::with_capacity(RESOURCES * 5);
    for i in 0..RESOURCES {
        templates.push(format!("/api/v1/resource{i}"));
        templates.push(format!("/api/v1/resource{i}/search"));
        templates.push(format!("/api/v1/resource{i}/{{id}}"));
        templates.push(format!("/api/v1/resource{i}/{{id}}/items"));
        templates.push(format!("/api/v1/resource{i}/{{id}}/items/{{item_id}}"));
    }
    templates
}

/// Request paths that all hit the table, a mix of static, one- and two-parameter routes
/// spread over early and late resources.
fn hit_paths() -> Vec<String> {
    let mut paths = Vec::new();
    for i in [0, 7, 13, 21, 33, 39] {
        paths.push(format!("/api/v1/resource{i}"));
        paths.push(format!("/api/v1/resource{i}/search"));
        paths.push(format!("/api/v1/resource{i}/12345"));
        paths.push(format!("/api/v1/resource{i}/abc-def/items"));
        paths.push(format!("/api/v1/resource{i}/42/items/7"));
    }
    paths
}

fn route_table() -> RouteTable {
    let specs = templates()
        .into_iter()
        .zip(0u32..)
        .map(|(path, id)| RouteSpec::http(id, path, vec![Method::GET, Method::POST]));
    RouteTable::new(specs).expect("the benchmark routes are valid")
}

fn bench_route_match(c: &mut Criterion) {
    let mut router = matchit::Router::new();
    for (id, template) in templates().iter().enumerate() {
        router
            .insert(template.as_str(), id)
            .expect("the benchmark routes are valid");
    }
    assert_eq!(route_table().len(), 200);
    let hits = hit_paths();
    let misses = [
        "/api/v1/resource40",
        "/api/v2/resource1/1",
        "/api/v1/resource3/1/items/2/extra",
        "/static/app.js",
    ];
    for path in &hits {
        assert!(router.at(path).is_ok(), "{path} must match");
    }

    let mut group = c.benchmark_group("route_match");
    group.throughput(Throughput::Elements(hits.len() as u64));
    group.bench_function("matchit_200_routes_hits", |b| {
        b.iter(|| {
            for path in &hits {
                if let Ok(matched) = router.at(black_box(path.as_str())) {
                    black_box((matched.value, matched.params.len()));
                }
            }
        });
    });
    group.throughput(Throughput::Elements(misses.len() as u64));
    group.bench_function("matchit_200_routes_misses", |b| {
        b.iter(|| {
            for path in misses {
                black_box(router.at(black_box(path)).is_err());
            }
        });
    });
    group.finish();
}

/// A binding that answers every request at once, on the calling thread.
struct Immediate;

impl Dispatch for Immediate {
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>> {
        let body = Bytes::from_static(br#"{"message":"Hello, World!"}"#);
        let _ = black_box(&request.path_params);
        request.reply.send(HandlerResponse::new(
            StatusCode::OK,
            ContentKind::Json,
            body,
        ));
        Ok(())
    }
}

/// Runs `iters` requests made by `make` on one current-thread runtime and returns the time.
fn time_requests(
    runtime: &tokio::runtime::Runtime,
    service: &AppService,
    iters: u64,
    make: &dyn Fn() -> Request<Full<Bytes>>,
    expect: StatusCode,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let response = service.call_in_process(make()).await;
            assert_eq!(response.status(), expect);
            let body = response.into_body().collect().await;
            black_box(body.map(|collected| collected.to_bytes()).ok());
        }
        start.elapsed()
    })
}

fn bench_in_process(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let service = AppService::new(
        &route_table(),
        Arc::new(Immediate),
        &ServerConfig::default(),
    );
    let get = || {
        Request::get("/api/v1/resource21/42/items/7?q=x")
            .header("host", "bench")
            .header("accept", "application/json")
            .header("user-agent", "bench")
            .body(Full::default())
            .expect("valid request")
    };
    let post = || {
        Request::post("/api/v1/resource33/12345/items")
            .header("host", "bench")
            .header("content-type", "application/json")
            .header("content-length", "42")
            .body(Full::new(Bytes::from_static(
                br#"{"name":"Foo","price":1.5,"tags":["a","b"]}"#,
            )))
            .expect("valid request")
    };
    let miss = || {
        Request::get("/api/v1/nope")
            .header("host", "bench")
            .body(Full::default())
            .expect("valid request")
    };

    let mut group = c.benchmark_group("in_process");
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_2_params", |b| {
        b.iter_custom(|iters| time_requests(&runtime, &service, iters, &get, StatusCode::OK));
    });
    group.bench_function("post_json_body", |b| {
        b.iter_custom(|iters| time_requests(&runtime, &service, iters, &post, StatusCode::OK));
    });
    group.bench_function("miss_404_problem", |b| {
        b.iter_custom(|iters| {
            time_requests(&runtime, &service, iters, &miss, StatusCode::NOT_FOUND)
        });
    });
    group.finish();
}

fn bench_problem(c: &mut Criterion) {
    c.bench_function("problem/not_found_to_json", |b| {
        b.iter(|| {
            Problem::new(black_box(StatusCode::NOT_FOUND))
                .with_detail(black_box("no route matches /api/v1/nope"))
                .with_instance(black_box("/api/v1/nope"))
                .to_json()
        });
    });
}

const REQUEST_HEAD: &[u8] = b"GET /api/v1/resource21/42/items/7?q=hello HTTP/1.1\r\n\
Host: localhost:8000\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: application/json, text/plain, */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc\r\n\
Content-Type: application/json\r\n\
Cookie: session=0123456789abcdef; theme=dark\r\n\
X-Request-Id: 7f3c2a9e-1b4d-4c8e-9f2a-6d5e4c3b2a10\r\n\
Connection: keep-alive\r\n\
\r\n";

/// Parses a request head into method, path and a `HeaderMap`, as hyper does.
fn parse_head(head: &[u8]) -> Option<(Method, String, HeaderMap)> {
    let mut slots = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut slots);
    if !request.parse(head).ok()?.is_complete() {
        return None;
    }
    let method = Method::from_bytes(request.method?.as_bytes()).ok()?;
    let path = request.path?.to_owned();
    let mut headers = HeaderMap::with_capacity(request.headers.len());
    for header in request.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(header.value).ok()?;
        headers.append(name, value);
    }
    Some((method, path, headers))
}

fn bench_header_parse(c: &mut Criterion) {
    let parsed = parse_head(REQUEST_HEAD).expect("the head parses");
    assert_eq!(parsed.2.len(), 10);

    let mut group = c.benchmark_group("header_parse");
    group.throughput(Throughput::Bytes(REQUEST_HEAD.len() as u64));
    group.bench_function("httparse_only_10_headers", |b| {
        b.iter(|| {
            let mut slots = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut slots);
            black_box(request.parse(black_box(REQUEST_HEAD)).is_ok());
            black_box(request.headers.len());
        });
    });
    group.bench_function("httparse_to_headermap_10_headers", |b| {
        b.iter(|| parse_head(black_box(REQUEST_HEAD)));
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_route_match,
    bench_in_process,
    bench_problem,
    bench_header_parse
);
criterion_main!(benches);
