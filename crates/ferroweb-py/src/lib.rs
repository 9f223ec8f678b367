//! `ferroweb._ferroweb`: the thin PyO3 seam over ferroweb-core. Each submodule registers its
//! own classes; nothing here knows about HTTP beyond converting values.

use pyo3::prelude::*;

// Requests allocate many small short-lived buffers across threads; mimalloc handles that
// pattern much better than glibc malloc. Only Rust allocations of this library use it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod background;
mod buffers;
mod config;
mod params;
mod queue;
mod request;
mod routes;
mod server;
mod stream;
mod test_websocket;
mod testing;
mod websocket;

#[pymodule]
fn _ferroweb(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    background::register(module)?;
    queue::register(module)?;
    request::register(module)?;
    server::register(module)?;
    stream::register(module)?;
    test_websocket::register(module)?;
    testing::register(module)?;
    websocket::register(module)?;
    Ok(())
}
