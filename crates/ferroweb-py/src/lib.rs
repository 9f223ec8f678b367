//! `ferroweb._ferroweb`: the thin PyO3 seam over ferroweb-core. Each submodule registers its
//! own classes; nothing here knows about HTTP beyond converting values.

use pyo3::prelude::*;

// Requests allocate many small short-lived buffers across threads; mimalloc handles that
// pattern much better than glibc malloc. Only Rust allocations of this library use it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod auth;
mod background;
mod buffers;
mod codes;
mod config;
mod errors;
mod handoff;
mod headers;
mod logging;
mod middleware;
mod params;
mod queue;
mod request;
mod routes;
mod scalars;
mod server;
mod sessions;
mod static_files;
mod stream;
mod test_websocket;
mod testing;
mod websocket;

#[pymodule]
fn _ferroweb(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    auth::register(module)?;
    background::register(module)?;
    codes::register(module)?;
    config::register(module)?;
    errors::register(module)?;
    logging::register(module)?;
    middleware::register(module)?;
    params::register(module)?;
    queue::register(module)?;
    request::register(module)?;
    routes::register(module)?;
    scalars::register(module)?;
    server::register(module)?;
    sessions::register(module)?;
    static_files::register(module)?;
    stream::register(module)?;
    test_websocket::register(module)?;
    testing::register(module)?;
    websocket::register(module)?;
    Ok(())
}
