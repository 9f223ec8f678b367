//! Sessions: a JSON object per client, kept in a signed cookie or in Redis under a random id.
//!
//! The core loads the session before the handler runs and hands the binding a
//! [`SessionHandle`]; the binding replaces the data when the handler changes it, and the core
//! writes it back (a new cookie, or Redis and a cookie) when the response leaves. A cookie
//! session is signed, not encrypted: the client can read it but not change it.

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use http::{header, HeaderMap, Response, StatusCode};
use parking_lot::Mutex;
use redis::AsyncCommands;

use crate::auth::credentials::cookie;
use crate::problem::Problem;
use crate::redis_link::RedisLink;
use crate::set_cookie::CookieAttributes;
use crate::signing::{random_token, Signer};

/// Browsers keep cookies of up to 4096 bytes, name and value together.
pub const MAX_COOKIE_BYTES: usize = 4096;
const EMPTY: &[u8] = b"{}";

/// Where session data lives.
pub enum SessionStoreKind {
    /// In the cookie itself, signed.
    Cookie,
    /// In Redis, the cookie holding only a signed random id.
    Redis { url: String, timeout: Duration },
}

/// A session configuration that cannot work, or data that cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionError(pub String);

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SessionError {}

enum Store {
    Cookie,
    /// Boxed: a link is much larger than the cookie store's nothing.
    Redis(Box<RedisLink>),
}

/// The `Sessions` of a route.
pub struct SessionPolicy {
    signer: Signer,
    cookie: String,
    max_age: Duration,
    attributes: CookieAttributes,
    store: Store,
}

impl std::fmt::Debug for SessionPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPolicy")
            .field("cookie", &self.cookie)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

struct SessionState {
    data: Bytes,
    /// Set when the binding replaced the data: it is written back with the response.
    changed: bool,
    /// The Redis id of the session (None: none yet, or the cookie store).
    id: Option<String>,
    /// The request came with a (valid) session cookie.
    had_cookie: bool,
    /// The longest JSON that still fits in a cookie (cookie store only).
    cookie_room: Option<usize>,
}

/// One request's session, shared by the core and the binding.
#[derive(Clone)]
pub struct SessionHandle(Arc<Mutex<SessionState>>);

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle").finish_non_exhaustive()
    }
}

impl SessionHandle {
    fn new(data: Bytes, id: Option<String>, had_cookie: bool, cookie_room: Option<usize>) -> Self {
        Self(Arc::new(Mutex::new(SessionState {
            data,
            changed: false,
            id,
            had_cookie,
            cookie_room,
        })))
    }

    /// The session's data: a JSON object (`{}` when there is none).
    pub fn data(&self) -> Bytes {
        self.0.lock().data.clone()
    }

    /// Replaces the data (a JSON object; `{}` ends the session). Refused when a cookie
    /// session would outgrow what browsers keep.
    pub fn replace(&self, data: Bytes) -> Result<(), SessionError> {
        let mut state = self.0.lock();
        if let Some(room) = state.cookie_room {
            if data.len() > room {
                return Err(SessionError(format!(
                    "the session holds {} bytes of JSON, more than a cookie can carry ({room}); keep less in it or use a Redis store",
                    data.len()
                )));
            }
        }
        state.data = data;
        state.changed = true;
        Ok(())
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl SessionPolicy {
    pub fn new(
        secret_keys: Vec<Vec<u8>>,
        cookie: String,
        max_age: Duration,
        attributes: CookieAttributes,
        store: SessionStoreKind,
    ) -> Result<Self, SessionError> {
        let signer = Signer::new(secret_keys, "Sessions").map_err(SessionError)?;
        if cookie.is_empty()
            || !cookie
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(SessionError(format!(
                "{cookie:?} is not a usable cookie name"
            )));
        }
        if max_age.is_zero() {
            return Err(SessionError("max_age must be positive".to_owned()));
        }
        let store = match store {
            SessionStoreKind::Cookie => Store::Cookie,
            SessionStoreKind::Redis { url, timeout } => {
                let link = RedisLink::new(&url, timeout, "sessions").map_err(SessionError)?;
                Store::Redis(Box::new(link))
            }
        };
        Ok(Self {
            signer,
            cookie,
            max_age,
            attributes,
            store,
        })
    }

    /// How much JSON a cookie session may hold: what is left of 4096 bytes after the name,
    /// the timestamp and the signature, base64 taking 4 bytes for every 3.
    fn cookie_room(&self) -> usize {
        let overhead = self.cookie.len() + 1 + 1 + 20 + 1 + 43;
        MAX_COOKIE_BYTES.saturating_sub(overhead) / 4 * 3
    }

    fn redis_key(id: &str) -> String {
        format!("ferroweb:session:{id}")
    }

    /// The request's session, or the answer to send when the store cannot be read (a
    /// session that cannot be read must not be overwritten by an empty one).
    pub(crate) async fn load(
        &self,
        headers: &HeaderMap,
        path: &str,
    ) -> Result<SessionHandle, Response<Body>> {
        let presented = cookie(headers, &self.cookie).and_then(|value| self.signer.unsign(value));
        match &self.store {
            Store::Cookie => {
                let data = presented.and_then(|message| {
                    let (payload, issued) = message.rsplit_once('.')?;
                    let issued: u64 = issued.parse().ok()?;
                    let now = now_secs();
                    // issued in the future (beyond a minute of clock skew): never expiring
                    if issued > now + 60 || now.saturating_sub(issued) > self.max_age.as_secs() {
                        return None;
                    }
                    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
                    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json)
                        .ok()?;
                    Some(Bytes::from(json))
                });
                let had_cookie = data.is_some();
                let data = data.unwrap_or_else(|| Bytes::from_static(EMPTY));
                Ok(SessionHandle::new(
                    data,
                    None,
                    had_cookie,
                    Some(self.cookie_room()),
                ))
            }
            Store::Redis(link) => {
                let Some(id) = presented.map(str::to_owned) else {
                    return Ok(SessionHandle::new(
                        Bytes::from_static(EMPTY),
                        None,
                        false,
                        None,
                    ));
                };
                let key = Self::redis_key(&id);
                let stored: Option<Vec<u8>> = link
                    .run(|mut connection| async move { connection.get(key).await })
                    .await
                    .map_err(|_| store_unavailable(path))?;
                match stored {
                    Some(json) => Ok(SessionHandle::new(Bytes::from(json), Some(id), true, None)),
                    // expired in Redis: a fresh session, under a fresh id when written
                    None => Ok(SessionHandle::new(
                        Bytes::from_static(EMPTY),
                        None,
                        true,
                        None,
                    )),
                }
            }
        }
    }

    /// Writes a changed session back: the cookie (and Redis) on `response`. A Redis store
    /// that cannot be written turns the response into a 503, so the client knows.
    pub(crate) async fn commit(
        &self,
        handle: &SessionHandle,
        response: &mut Response<Body>,
        path: &str,
    ) {
        let (data, id, had_cookie) = {
            let state = handle.0.lock();
            if !state.changed {
                return;
            }
            (state.data.clone(), state.id.clone(), state.had_cookie)
        };
        let ended = data.as_ref() == EMPTY;
        // an ended session removes the cookie the request came with (there is none to
        // remove otherwise)
        let removal = || {
            had_cookie
                .then(|| self.attributes.header(&self.cookie, "", None))
                .flatten()
        };
        let cookie = match &self.store {
            Store::Cookie => {
                if ended {
                    removal()
                } else {
                    let message = format!("{}.{}", URL_SAFE_NO_PAD.encode(&data), now_secs());
                    let signed = self.signer.sign(&message);
                    self.attributes
                        .header(&self.cookie, &signed, Some(self.max_age))
                }
            }
            Store::Redis(link) => {
                let written = if ended {
                    match id {
                        Some(id) => {
                            let key = Self::redis_key(&id);
                            link.run(
                                |mut connection| async move { connection.del::<_, ()>(key).await },
                            )
                            .await
                            .map(|()| removal())
                        }
                        None => Ok(removal()),
                    }
                } else {
                    let id = id.or_else(|| random_token(32));
                    match id {
                        Some(id) => {
                            let key = Self::redis_key(&id);
                            let seconds = self.max_age.as_secs().max(1);
                            let stored = data.to_vec();
                            link.run(|mut connection| async move {
                                connection.set_ex::<_, _, ()>(key, stored, seconds).await
                            })
                            .await
                            .map(|()| {
                                self.attributes.header(
                                    &self.cookie,
                                    &self.signer.sign(&id),
                                    Some(self.max_age),
                                )
                            })
                        }
                        None => Err(crate::redis_link::Unavailable),
                    }
                };
                match written {
                    Ok(cookie) => cookie,
                    Err(_) => {
                        *response = Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                            .with_detail("the session could not be saved")
                            .with_instance(path)
                            .into_response();
                        return;
                    }
                }
            }
        };
        if let Some(cookie) = cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
}

fn store_unavailable(path: &str) -> Response<Body> {
    let mut response = Problem::new(StatusCode::SERVICE_UNAVAILABLE)
        .with_detail("the session store is unavailable")
        .with_instance(path)
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, http::HeaderValue::from_static("1"));
    response
}
