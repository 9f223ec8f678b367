//! `loadgen`: load for ferroweb's long-lived paths, which wrk cannot measure.
//!
//! - `loadgen stream --url http://127.0.0.1:8000/stream?mb=100 --expect-bytes 104857600 -c 4`:
//!   GETs a streamed body again and again on each connection; MB/s of verified body bytes.
//! - `loadgen sse --url http://127.0.0.1:8000/sse --clients 100`: holds event streams open;
//!   complete events per second (each parsed, its JSON data and sequence checked).
//! - `loadgen ws --url ws://127.0.0.1:8000/ws --clients 50`: WebSocket ping-pong of 64-byte text
//!   messages; verified round trips per second and round-trip latency percentiles.
//!
//! Every run is a warm-up then a measured window; it prints one JSON object. Failures (bad
//! status, wrong length, malformed events, wrong echo, I/O errors) are counted in `errors`, with
//! a few distinct messages in `error_samples`; `ok` is false when there were any errors or
//! nothing was measured.

mod http1;
mod run;
mod sse;
mod workloads;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::http1::Target;
use crate::run::{drive, round3, until_stopped, Latency, Shared, Spread, Window, WorkerReport};
use crate::workloads::{sse_client, stream_client, ws_client, SseCheck};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    version,
    about = "Load for streamed responses, server-sent events and WebSocket echo; prints one JSON object"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// GET a streamed body repeatedly on each connection; throughput of verified body bytes.
    Stream(StreamArgs),
    /// Hold event streams open; complete, verified events per second across all clients.
    Sse(SseArgs),
    /// WebSocket ping-pong: send a text message, wait for the echo, repeat.
    Ws(WsArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// Target URL (http:// for stream and sse, ws:// for ws).
    #[arg(long)]
    url: String,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before the measurement starts (connections are opened then).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Runtime worker threads (1: a single-threaded runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds any single connect, read or write may take before it counts as an error.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
}

#[derive(Debug, Args)]
struct StreamArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent connections.
    #[arg(long, short = 'c', visible_alias = "clients", default_value_t = 1)]
    connections: usize,
    /// Exact body length every response must have.
    #[arg(long)]
    expect_bytes: u64,
}

#[derive(Debug, Args)]
struct SseArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent event streams.
    #[arg(
        long,
        short = 'c',
        visible_alias = "connections",
        default_value_t = 100
    )]
    clients: usize,
    /// The `event:` name every event must have ("" to accept any).
    #[arg(long, default_value = "tick")]
    event: String,
}

#[derive(Debug, Args)]
struct WsArgs {
    #[command(flatten)]
    common: Common,
    /// Concurrent WebSocket clients.
    #[arg(long, short = 'c', visible_alias = "connections", default_value_t = 50)]
    clients: usize,
    /// Size of each text message in bytes.
    #[arg(long, default_value_t = 64)]
    message_size: usize,
}

fn seconds(value: f64, name: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|_| format!("--{name}: {value} is not a duration"))
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    warmup: Duration,
    duration: Duration,
    timeout: Duration,
}

impl Common {
    fn timing(&self) -> Result<Timing, String> {
        let timing = Timing {
            warmup: seconds(self.warmup, "warmup")?,
            duration: seconds(self.duration, "duration")?,
            timeout: seconds(self.timeout, "timeout")?,
        };
        if timing.duration.is_zero() || timing.timeout.is_zero() {
            return Err("--duration and --timeout must be positive".to_owned());
        }
        Ok(timing)
    }
}

fn check_count(count: usize, name: &str) -> Result<(), String> {
    if (1..=100_000).contains(&count) {
        Ok(())
    } else {
        Err(format!("--{name} must be between 1 and 100000"))
    }
}

/// The fields every report has.
fn base_report(mode: &str, common: &Common, workers: usize, window: &Window) -> serde_json::Value {
    json!({
        "mode": mode,
        "url": common.url,
        "connections": workers,
        "warmup_s": common.warmup,
        "duration_s": round3(window.seconds),
        "ok": window.errors == 0 && window.units > 0,
        "errors": window.errors,
        "error_samples": window.error_samples,
        "per_connection": Spread::of(&window.per_worker),
    })
}

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

async fn run_stream(args: StreamArgs) -> Result<serde_json::Value, String> {
    let timing = args.common.timing()?;
    check_count(args.connections, "connections")?;
    let target = Arc::new(Target::parse(&args.common.url)?);
    let shared = Arc::new(Shared::default());
    let expect = args.expect_bytes;
    let window = drive(
        &shared,
        args.connections,
        timing.warmup,
        timing.duration,
        |_, stop| {
            let (target, shared) = (target.clone(), shared.clone());
            async move {
                let mut report = WorkerReport::default();
                until_stopped(
                    stop,
                    stream_client(target, expect, timing.timeout, shared, &mut report),
                )
                .await;
                report
            }
        },
    )
    .await;
    let bytes_per_s = window.units as f64 / window.seconds;
    let extra = json!({
        "expect_bytes": expect,
        "bytes": window.units,
        "mb_per_s": round3(bytes_per_s / 1e6),
        "mib_per_s": round3(bytes_per_s / (1024.0 * 1024.0)),
        "responses": window.completed,
        "responses_total": window.completed_total,
        "responses_per_s": round3(window.completed as f64 / window.seconds),
        "response_latency": Latency::from_sorted(&window.latencies_us),
    });
    Ok(merge(
        base_report("stream", &args.common, args.connections, &window),
        extra,
    ))
}

async fn run_sse(args: SseArgs) -> Result<serde_json::Value, String> {
    let timing = args.common.timing()?;
    check_count(args.clients, "clients")?;
    let target = Arc::new(Target::parse(&args.common.url)?);
    let check = Arc::new(SseCheck {
        event: Some(args.event.clone()).filter(|name| !name.is_empty()),
    });
    let shared = Arc::new(Shared::default());
    let window = drive(
        &shared,
        args.clients,
        timing.warmup,
        timing.duration,
        |_, stop| {
            let (target, check, shared) = (target.clone(), check.clone(), shared.clone());
            async move {
                let mut report = WorkerReport::default();
                until_stopped(
                    stop,
                    sse_client(target, check, timing.timeout, shared, &mut report),
                )
                .await;
                report
            }
        },
    )
    .await;
    let extra = json!({
        "events": window.units,
        "events_per_s": round3(window.units as f64 / window.seconds),
        "streams_opened": window.completed_total,
    });
    Ok(merge(
        base_report("sse", &args.common, args.clients, &window),
        extra,
    ))
}

async fn run_ws(args: WsArgs) -> Result<serde_json::Value, String> {
    let timing = args.common.timing()?;
    check_count(args.clients, "clients")?;
    if !(args.common.url.starts_with("ws://")) {
        return Err(format!(
            "{:?}: only ws:// URLs are supported",
            args.common.url
        ));
    }
    let url = Arc::new(args.common.url.clone());
    let shared = Arc::new(Shared::default());
    let size = args.message_size;
    let window = drive(
        &shared,
        args.clients,
        timing.warmup,
        timing.duration,
        |index, stop| {
            let (url, shared) = (url.clone(), shared.clone());
            async move {
                let mut report = WorkerReport::default();
                until_stopped(
                    stop,
                    ws_client(url, index, size, timing.timeout, shared, &mut report),
                )
                .await;
                report
            }
        },
    )
    .await;
    let extra = json!({
        "message_size": size,
        "messages": window.units,
        "msgs_per_s": round3(window.units as f64 / window.seconds),
        "connections_opened": window.completed_total,
        "round_trip": Latency::from_sorted(&window.latencies_us),
    });
    Ok(merge(
        base_report("ws", &args.common, args.clients, &window),
        extra,
    ))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Command::Stream(args) => args.common.threads,
        Command::Sse(args) => args.common.threads,
        Command::Ws(args) => args.common.threads,
    };
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("loadgen: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(async move {
        match cli.command {
            Command::Stream(args) => run_stream(args).await,
            Command::Sse(args) => run_sse(args).await,
            Command::Ws(args) => run_ws(args).await,
        }
    });
    // Workers still blocked on a slow server must not hold the process open.
    runtime.shutdown_background();
    match report {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::from(2)
        }
    }
}
