//! HTTP middleware that runs in the core, without the binding: trusted hosts, CORS, security
//! headers, compression, rate limits, CSRF, sessions, authentication, body limits and
//! timeouts.
//!
//! The binding computes each route's effective [`Middleware`] once at start-up; the router
//! wraps that route's endpoint in it. A route with none is served exactly as before (no
//! wrapper, no boxing). The order is fixed, outermost first: trusted hosts, CORS, security
//! headers, compression, rate limit, CSRF, sessions, authentication, body limit, timeout,
//! then the handler (a rate limit that counts by the authenticated subject runs after
//! authentication). Body limit and timeout are applied by the endpoint itself (they need the
//! request's body and its answer). Refusals (429, 403, 401, 503) still get the CORS and
//! security headers, so that browsers can read them; CORS preflights are neither counted,
//! checked nor authenticated.

mod compression;
mod cors;
mod hosts;
mod security_headers;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use tower::util::BoxCloneSyncService;
use tower::Service;

pub use compression::CompressionPolicy;
use compression::Compressor;
pub use cors::{CorsError, CorsPolicy};
pub(crate) use hosts::host_problem;
pub use hosts::{TrustedHosts, TrustedHostsError};
pub use security_headers::{SecurityHeaderValues, SecurityHeaders, SecurityHeadersError};

use crate::auth::AuthPolicy;
use crate::csrf::{CsrfOutcome, CsrfPolicy};
use crate::problem::Problem;
use crate::rate_limit::{Decision, RateLimitPolicy, Verdict};
use crate::session::{SessionHandle, SessionPolicy};
use cors::CorsRequest;

/// How long a handler may take to start its response, and the status sent when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutPolicy {
    pub duration: Duration,
    pub status: StatusCode,
}

impl TimeoutPolicy {
    pub(crate) fn expired(&self, path: &str) -> Response<Body> {
        Problem::new(self.status)
            .with_detail(format!(
                "the handler did not answer within {} s",
                format_seconds(self.duration)
            ))
            .with_instance(path)
            .into_response()
    }
}

fn format_seconds(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{seconds:.0}")
    } else {
        format!("{seconds}")
    }
}

/// The effective middleware of one route (or of the app, for requests no route matches).
#[derive(Debug, Clone, Default)]
pub struct Middleware {
    pub trusted_hosts: Option<Arc<TrustedHosts>>,
    pub cors: Option<Arc<CorsPolicy>>,
    pub security_headers: Option<Arc<SecurityHeaders>>,
    pub compression: Option<CompressionPolicy>,
    /// Who may call the route; `None`: anyone.
    pub auth: Option<Arc<AuthPolicy>>,
    pub rate_limit: Option<Arc<RateLimitPolicy>>,
    pub csrf: Option<Arc<CsrfPolicy>>,
    pub sessions: Option<Arc<SessionPolicy>>,
    /// Replaces `ServerConfig::max_body_size` for this route.
    pub body_limit: Option<u64>,
    pub timeout: Option<TimeoutPolicy>,
}

impl Middleware {
    /// True when nothing needs wrapping around the endpoint.
    pub(crate) fn wraps_nothing(&self) -> bool {
        self.trusted_hosts.is_none()
            && self.cors.is_none()
            && self.security_headers.is_none()
            && self.compression.is_none()
            && self.auth.is_none()
            && self.rate_limit.is_none()
            && self.csrf.is_none()
            && self.sessions.is_none()
    }
}

/// A route's endpoint with its middleware, type-erased for the router.
pub(crate) type RouteService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// Where the CORS policy of a request comes from.
#[derive(Debug, Clone)]
pub(crate) enum CorsSource {
    None,
    Fixed(Arc<CorsPolicy>),
    /// A path's answer to unrouted methods: a preflight asks about the method it names, so
    /// the route serving that method decides; else the app's policy, else any route's at
    /// this path (which then refuses a method no route serves).
    ByRequestedMethod {
        routes: Vec<(Method, Arc<CorsPolicy>)>,
        fallback: Option<Arc<CorsPolicy>>,
    },
}

impl CorsSource {
    fn policy_for<B>(&self, request: &Request<B>) -> Option<&Arc<CorsPolicy>> {
        match self {
            Self::None => None,
            Self::Fixed(policy) => Some(policy),
            Self::ByRequestedMethod { routes, fallback } => {
                let requested = request
                    .headers()
                    .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                    .and_then(|value| Method::from_bytes(value.as_bytes()).ok());
                let by_route = requested.and_then(|method| {
                    routes
                        .iter()
                        .find(|(served, _)| *served == method)
                        .map(|(_, policy)| policy)
                });
                by_route
                    .or(fallback.as_ref())
                    .or_else(|| routes.first().map(|(_, policy)| policy))
            }
        }
    }
}

/// Wraps `endpoint` in the parts of `middleware` that act around it.
pub(crate) fn wrap<S>(endpoint: S, middleware: &Middleware, cors: CorsSource) -> RouteService
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    if middleware.trusted_hosts.is_none()
        && middleware.security_headers.is_none()
        && middleware.compression.is_none()
        && middleware.auth.is_none()
        && middleware.rate_limit.is_none()
        && middleware.csrf.is_none()
        && middleware.sessions.is_none()
        && matches!(cors, CorsSource::None)
    {
        return BoxCloneSyncService::new(endpoint);
    }
    BoxCloneSyncService::new(Stack {
        policies: Arc::new(Policies {
            trusted_hosts: middleware.trusted_hosts.clone(),
            cors,
            security_headers: middleware.security_headers.clone(),
            compression: middleware.compression.map(Compressor::new),
            auth: middleware.auth.clone(),
            rate_limit: middleware.rate_limit.clone(),
            csrf: middleware.csrf.clone(),
            sessions: middleware.sessions.clone(),
        }),
        inner: endpoint,
    })
}

struct Policies {
    trusted_hosts: Option<Arc<TrustedHosts>>,
    cors: CorsSource,
    security_headers: Option<Arc<SecurityHeaders>>,
    compression: Option<Compressor>,
    auth: Option<Arc<AuthPolicy>>,
    rate_limit: Option<Arc<RateLimitPolicy>>,
    csrf: Option<Arc<CsrfPolicy>>,
    sessions: Option<Arc<SessionPolicy>>,
}

/// Trusted hosts, CORS, security headers and compression around an endpoint, as one service
/// with one future: a layer per concept would box and move the response once per layer.
#[derive(Clone)]
struct Stack<S> {
    policies: Arc<Policies>,
    inner: S,
}

type StackFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

impl<S> Service<Request<Body>> for Stack<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = StackFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let policies = Arc::clone(&self.policies);
        if let Some(refusal) = policies
            .trusted_hosts
            .as_ref()
            .and_then(|hosts| hosts.refuse(&request))
        {
            return Box::pin(std::future::ready(Ok(refusal)));
        }
        let cors = policies.cors.policy_for(&request).cloned();
        let origin: Option<HeaderValue> = match &cors {
            Some(policy) => match policy.classify(&request) {
                CorsRequest::Preflight => {
                    return Box::pin(std::future::ready(Ok(policy.preflight(&request))))
                }
                CorsRequest::Actual(origin) => origin,
                CorsRequest::None => None,
            },
            None => None,
        };
        let negotiated = policies
            .compression
            .as_ref()
            .map(|compressor| compressor.negotiate(request.headers()));
        let https = request.uri().scheme_str() == Some("https");
        // Only a route that admits requests (rate limit, CSRF, sessions, auth) calls its
        // endpoint inside the future, since admitting may wait (on Redis, a JWKS fetch); the
        // clone ready for the next call stays here, as tower services do. Other routes call
        // it at once, as before those layers existed.
        let gate = if policies.admits() {
            let ready = self.inner.clone();
            Gate::Admit(request, std::mem::replace(&mut self.inner, ready))
        } else {
            Gate::Called(self.inner.call(request))
        };
        Box::pin(async move {
            let (admitted, mut response) = match gate {
                Gate::Called(response) => {
                    let Ok(response) = response.await;
                    (Admitted::default(), response)
                }
                Gate::Admit(request, mut inner) => {
                    let path = request.uri().path().to_owned();
                    let mut admitted = Admitted::default();
                    let mut response = match admit(&policies, request, &mut admitted).await {
                        Ok(request) => {
                            let Ok(response) = inner.call(request).await;
                            response
                        }
                        Err(refusal) => refusal,
                    };
                    if let (Some(sessions), Some(session)) = (&policies.sessions, &admitted.session)
                    {
                        sessions.commit(session, &mut response, &path).await;
                    }
                    (admitted, response)
                }
            };
            if let Some(token) = admitted.csrf_cookie {
                crate::csrf::set_token(&mut response, token);
            }
            let decision = admitted.decision;
            if let (Some(compressor), Some(negotiated)) = (&policies.compression, negotiated) {
                if compressor.may_compress(&response) {
                    response = compressor.compress(response, negotiated).await;
                }
            }
            if let Some(decision) = &decision {
                decision.decorate(response.headers_mut());
            }
            if let Some(headers) = &policies.security_headers {
                headers.apply(https, response.headers_mut());
            }
            if let Some(policy) = &cors {
                policy.decorate(origin.as_ref(), response.headers_mut());
            }
            Ok(response)
        })
    }
}

/// How a request reaches the endpoint: called at once, or after being admitted. It is moved
/// once, into the future that is boxed anyway, so the larger variant costs no extra copy
/// worth a box of its own.
#[allow(clippy::large_enum_variant)]
enum Gate<S: Service<Request<Body>>> {
    Called(S::Future),
    Admit(Request<Body>, S),
}

impl Policies {
    /// Whether requests pass layers that may refuse them or wait before the endpoint.
    fn admits(&self) -> bool {
        self.rate_limit.is_some()
            || self.csrf.is_some()
            || self.sessions.is_some()
            || self.auth.is_some()
    }
}

/// What admitting a request leaves for its response.
#[derive(Default)]
struct Admitted {
    /// Where the client stands against its rate limit.
    decision: Option<Decision>,
    /// A new CSRF token cookie to set.
    csrf_cookie: Option<HeaderValue>,
    /// The session to write back.
    session: Option<SessionHandle>,
}

/// Rate limit, CSRF, the session and authentication, in that order: the request to hand on
/// (with its session and identity), or the refusal to send instead. Rate limiting counts
/// before the rest (failed attempts count too), unless it counts by the authenticated
/// subject.
async fn admit(
    policies: &Policies,
    mut request: Request<Body>,
    admitted: &mut Admitted,
) -> Result<Request<Body>, Response<Body>> {
    let limit = policies.rate_limit.as_deref();
    let by_subject = limit.is_some_and(RateLimitPolicy::keys_by_subject);
    if let Some(limit) = limit.filter(|_| !by_subject) {
        admitted.decision = counted(limit, limit.key_of(&request), request.uri().clone()).await?;
    }
    if let Some(csrf) = &policies.csrf {
        match csrf.check(request.method(), request.headers(), request.uri().path()) {
            CsrfOutcome::Pass(cookie) => admitted.csrf_cookie = cookie,
            CsrfOutcome::Refuse(refusal) => return Err(refusal),
        }
    }
    if let Some(sessions) = &policies.sessions {
        let path = request.uri().path().to_owned();
        let session = sessions.load(request.headers(), &path).await?;
        request.extensions_mut().insert(session.clone());
        admitted.session = Some(session);
    }
    if let Some(auth) = &policies.auth {
        let identity = auth
            .authenticate(request.headers(), request.uri())
            .await
            .map_err(|refused| *refused)?;
        request.extensions_mut().insert(identity);
    }
    if let Some(limit) = limit.filter(|_| by_subject) {
        admitted.decision = counted(limit, limit.key_of(&request), request.uri().clone()).await?;
    }
    Ok(request)
}

/// The request's standing against `limit` (None when the store could not say and lets it
/// through), or the refusal: 429, or 503 from a store that fails closed.
async fn counted(
    limit: &RateLimitPolicy,
    key: String,
    uri: http::Uri,
) -> Result<Option<Decision>, Response<Body>> {
    // the URI (a reference count, not a copy) only names the refusal's `instance`
    match limit.check(&key, uri.path()).await {
        Verdict::Counted(decision) if decision.allowed => Ok(Some(decision)),
        Verdict::Counted(decision) => Err(decision.refusal(uri.path())),
        Verdict::Unavailable(None) => Ok(None),
        Verdict::Unavailable(Some(refusal)) => Err(refusal),
    }
}

#[cfg(test)]
mod tests;
