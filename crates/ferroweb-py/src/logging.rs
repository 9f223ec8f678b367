//! Where the core's own log lines go: stderr, beside Python's. The core logs only what an
//! operator must see (a request that panicked, a Redis store that cannot be reached, once a
//! minute), so the level is `warn` unless `FERROWEB_LOG` says otherwise (`error`, `info`,
//! `debug`, `trace`). Writing to stderr needs no GIL, so a runtime thread never waits on
//! Python to log.

use pyo3::prelude::*;
use tracing::Level;

/// The level `FERROWEB_LOG` names, `warn` when unset or not a level.
fn level() -> Level {
    std::env::var("FERROWEB_LOG")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(Level::WARN)
}

pub(crate) fn register(_module: &Bound<'_, PyModule>) -> PyResult<()> {
    // An embedding program that installed its own subscriber keeps it.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level())
        .with_ansi(false)
        .try_init();
    Ok(())
}
