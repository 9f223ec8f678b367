//! A JSON Web Key Set fetched from the issuer's URL: on first use, then again when a token
//! names a key the set does not hold (the issuer rotated its keys), never more often than the
//! minimum interval (a minute by default) whatever tokens arrive, one fetch at a time, each
//! bounded by a timeout and 1 MiB.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use parking_lot::Mutex;

/// The largest JWKS document read.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

pub(crate) struct RemoteJwks {
    pub(crate) url: Uri,
    timeout: Duration,
    /// The least time between two fetches.
    min_interval: Duration,
    last_fetch: Mutex<Option<Instant>>,
    /// Held while fetching: requests that need a fetch at the same time wait for one.
    fetching: tokio::sync::Mutex<()>,
}

impl RemoteJwks {
    pub(crate) fn new(
        url: &str,
        timeout: Duration,
        min_interval: Duration,
    ) -> Result<Self, String> {
        let parsed: Uri = url
            .parse()
            .map_err(|_| format!("jwks_url {url:?} is not a URL"))?;
        if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() {
            return Err(format!(
                "jwks_url {url:?} must be an http:// or https:// URL"
            ));
        }
        if timeout.is_zero() {
            return Err("the JWKS fetch timeout must be positive".to_owned());
        }
        Ok(Self {
            url: parsed,
            timeout,
            min_interval,
            last_fetch: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    fn due(&self) -> bool {
        self.last_fetch
            .lock()
            .is_none_or(|last| last.elapsed() >= self.min_interval)
    }

    /// The document, when a fetch was due and worked.
    pub(crate) async fn fetch_if_due(&self) -> Option<Bytes> {
        if !self.due() {
            return None;
        }
        let _one_at_a_time = self.fetching.lock().await;
        // another request may have fetched while this one waited
        if !self.due() {
            return None;
        }
        *self.last_fetch.lock() = Some(Instant::now());
        match tokio::time::timeout(self.timeout, self.fetch()).await {
            Ok(Ok(document)) => Some(document),
            Ok(Err(reason)) => {
                tracing::warn!(url = %self.url, %reason, "the JWKS could not be fetched");
                None
            }
            Err(_) => {
                tracing::warn!(url = %self.url, "the JWKS fetch timed out");
                None
            }
        }
    }

    async fn fetch(&self) -> Result<Bytes, String> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|err| format!("no TLS roots: {err}"))?
            .https_or_http()
            .enable_http1()
            .build();
        // A client per fetch: fetches are rare, and a pooled connection would belong to the
        // runtime of the first request.
        let client: Client<_, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).build(connector);
        let request = Request::get(self.url.clone())
            .header(header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|err| err.to_string())?;
        let response = client
            .request(request)
            .await
            .map_err(|err| err.to_string())?;
        if response.status() != StatusCode::OK {
            return Err(format!("the server answered {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|err| err.to_string())?;
        Ok(body.to_bytes())
    }
}
