//! Bearer JWTs (jsonwebtoken): signature, `exp`, `nbf`, `aud`, `iss`, required claims and
//! scopes.
//!
//! Each key carries its own algorithm allow-list: the algorithms asked for that belong to the
//! key's family. An HMAC secret never verifies an RS256 token and an RSA public key never
//! verifies an HS256 one (the "HS/RS confusion" attack), and `alg: none` is not an algorithm
//! jsonwebtoken knows, so such a token is malformed.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::credentials::{bearer_token, cookie};
use super::jwks::RemoteJwks;
use super::Refusal;

/// Claims jsonwebtoken itself checks when they are required; others are checked here.
const SPEC_CLAIMS: [&str; 5] = ["exp", "nbf", "aud", "iss", "sub"];

/// Where the verifying keys come from.
#[derive(Debug, Clone)]
pub enum JwtKeys {
    /// An HMAC secret (HS256/384/512).
    Secret(Vec<u8>),
    /// A PEM public key: RSA (RS*, PS*), EC (ES256, ES384) or Ed25519 (EdDSA).
    PublicKeyPem(Vec<u8>),
    /// A JSON Web Key Set document; a token's `kid` picks the key.
    Jwks(String),
    /// A JWKS fetched from this URL (http or https) on first use, and again (at most once
    /// per `min_refresh`) when a token names a `kid` it does not hold; each fetch bounded by
    /// `timeout`.
    JwksUrl {
        url: String,
        timeout: Duration,
        min_refresh: Duration,
    },
}

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Algorithm names (`"HS256"`, `"RS256"`, `"EdDSA"`...).
    pub algorithms: Vec<String>,
    /// Accepted `aud` values; when any is given, tokens must carry `aud`.
    pub audience: Vec<String>,
    /// Accepted `iss` values; when any is given, tokens must carry `iss`.
    pub issuer: Vec<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway: u64,
    /// Claims every token must carry (`exp` unless told otherwise).
    pub required_claims: Vec<String>,
    /// Scopes every token must grant (a space-separated `scope` claim, or a list in `scope`
    /// or `scp`).
    pub scopes: Vec<String>,
    /// A cookie to read the token from when there is no `Authorization: Bearer` header.
    pub cookie: Option<String>,
    /// Longer tokens are refused before any decoding.
    pub max_token_bytes: usize,
}

/// A JWT configuration that cannot work; raised at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtError(String);

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JwtError {}

fn config_error(message: impl Into<String>) -> JwtError {
    JwtError(message.into())
}

pub(crate) struct VerifyingKey {
    kid: Option<String>,
    key: DecodingKey,
    /// The algorithms this key verifies: the asked ones of its family.
    algorithms: Vec<Algorithm>,
}

/// A bearer-JWT scheme, ready to check requests.
pub struct JwtScheme {
    rules: KeyRules,
    keys: RwLock<Arc<Vec<VerifyingKey>>>,
    /// Where the keys come from when they are fetched (a JWKS URL).
    remote: Option<RemoteJwks>,
    /// Required claims that are not among those jsonwebtoken checks.
    other_required: Vec<String>,
    scopes: Vec<String>,
    cookie: Option<String>,
    max_token_bytes: usize,
}

impl fmt::Debug for JwtScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys stay out of debug output (and so out of logs).
        f.debug_struct("JwtScheme")
            .field("keys", &self.keys.read().len())
            .field("scopes", &self.scopes)
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

fn algorithm(name: &str) -> Result<Algorithm, JwtError> {
    name.parse().map_err(|_| {
        config_error(format!(
            "unknown JWT algorithm {name:?}; use HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 or EdDSA"
        ))
    })
}

fn pem_key(pem: &[u8]) -> Result<DecodingKey, JwtError> {
    DecodingKey::from_rsa_pem(pem)
        .or_else(|_| DecodingKey::from_ec_pem(pem))
        .or_else(|_| DecodingKey::from_ed_pem(pem))
        .map_err(|_| config_error("public_key is not a PEM RSA, EC or Ed25519 public key"))
}

/// What a key must allow and what every token must satisfy: kept so that keys fetched later
/// (a JWKS URL) get the same rules as those known at start-up.
struct KeyRules {
    asked: Vec<Algorithm>,
    leeway: u64,
    audience: Vec<String>,
    issuer: Vec<String>,
    spec_required: Vec<String>,
}

impl KeyRules {
    /// Checks the claims of a token whose signature was verified: `exp`, `nbf` (with the
    /// leeway), `aud`, `iss` and the presence of the required spec claims.
    fn check_claims(&self, claims: &Probe) -> Result<(), Refusal> {
        let invalid = |text: &str| Err(Refusal::Invalid(text.to_owned()));
        for required in &self.spec_required {
            let present = match required.as_str() {
                "exp" => claims.exp.is_some(),
                "nbf" => claims.nbf.is_some(),
                "aud" => claims.aud.is_some(),
                "iss" => claims.iss.is_some(),
                "sub" => claims.sub.is_some(),
                _ => true,
            };
            if !present {
                return Err(Refusal::Invalid(format!(
                    "the token lacks the {required} claim"
                )));
            }
        }
        let now = now_secs();
        let leeway = self.leeway as f64;
        if let Some(exp) = &claims.exp {
            let Some(exp) = exp.as_f64() else {
                return invalid("the token's exp claim is not valid");
            };
            if exp < now - leeway {
                return invalid("the token has expired");
            }
        }
        if let Some(nbf) = &claims.nbf {
            let Some(nbf) = nbf.as_f64() else {
                return invalid("the token's nbf claim is not valid");
            };
            if nbf > now + leeway {
                return invalid("the token is not valid yet");
            }
        }
        if !self.audience.is_empty() {
            let accepted = |value: &Value| {
                value
                    .as_str()
                    .is_some_and(|aud| self.audience.iter().any(|a| a == aud))
            };
            let matches = match &claims.aud {
                Some(Value::Array(items)) => items.iter().any(accepted),
                Some(value) => accepted(value),
                None => false,
            };
            if !matches {
                return invalid("the token is not meant for this audience");
            }
        }
        if !self.issuer.is_empty() {
            let matches = claims
                .iss
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|iss| self.issuer.iter().any(|accepted| accepted == iss));
            if !matches {
                return invalid("the token's issuer is not accepted");
            }
        }
        Ok(())
    }

    /// The asked algorithms of `key`'s family (only `only`, when the key names one).
    fn allowed_for(&self, key: &DecodingKey, only: Option<Algorithm>) -> Vec<Algorithm> {
        let family = key.family();
        let family = family.algorithms();
        self.asked
            .iter()
            .copied()
            .filter(|alg| family.contains(alg) && only.is_none_or(|only| only == *alg))
            .collect()
    }

    fn single(
        &self,
        key: DecodingKey,
        refusal: impl FnOnce(&DecodingKey) -> String,
    ) -> Result<VerifyingKey, JwtError> {
        let allowed = self.allowed_for(&key, None);
        if allowed.is_empty() {
            return Err(config_error(refusal(&key)));
        }
        Ok(VerifyingKey {
            kid: None,
            algorithms: allowed,
            key,
        })
    }

    /// The signing keys of a JWKS document usable with the asked algorithms.
    pub(crate) fn keys_of_jwks(&self, document: &[u8]) -> Result<Vec<VerifyingKey>, JwtError> {
        let set: JwkSet = serde_json::from_slice(document)
            .map_err(|err| config_error(format!("the JWKS is not valid: {err}")))?;
        let mut verifying = Vec::new();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            let only = match jwk.common.key_algorithm {
                Some(named) => match Algorithm::try_from(named) {
                    Ok(alg) => Some(alg),
                    Err(_) => continue,
                },
                None => None,
            };
            let allowed = self.allowed_for(&key, only);
            if allowed.is_empty() {
                continue;
            }
            verifying.push(VerifyingKey {
                kid: jwk.common.key_id.clone(),
                algorithms: allowed,
                key,
            });
        }
        if verifying.is_empty() {
            return Err(config_error(
                "the JWKS has no signing key usable with the given algorithms",
            ));
        }
        Ok(verifying)
    }
}

impl JwtScheme {
    pub fn new(keys: JwtKeys, settings: JwtSettings) -> Result<Self, JwtError> {
        let asked: Vec<Algorithm> = settings
            .algorithms
            .iter()
            .map(|name| algorithm(name))
            .collect::<Result<_, _>>()?;
        if asked.is_empty() {
            return Err(config_error("JWTAuth needs at least one algorithm"));
        }
        let mut required: Vec<String> = settings.required_claims.clone();
        for (claim, configured) in [("aud", &settings.audience), ("iss", &settings.issuer)] {
            if !configured.is_empty() && !required.iter().any(|name| name == claim) {
                required.push(claim.to_owned());
            }
        }
        let (spec_required, other_required): (Vec<String>, Vec<String>) = required
            .into_iter()
            .partition(|claim| SPEC_CLAIMS.contains(&claim.as_str()));
        let rules = KeyRules {
            asked,
            leeway: settings.leeway,
            audience: settings.audience,
            issuer: settings.issuer,
            spec_required,
        };
        let mut remote = None;
        let verifying = match keys {
            JwtKeys::Secret(secret) => {
                if secret.is_empty() {
                    return Err(config_error("JWTAuth secret must not be empty"));
                }
                let key = DecodingKey::from_secret(&secret)
                    .map_err(|_| config_error("JWTAuth secret is not usable"))?;
                vec![rules.single(key, |_| {
                    "a secret verifies HS256/384/512 tokens, and algorithms names none of them"
                        .to_owned()
                })?]
            }
            JwtKeys::PublicKeyPem(pem) => vec![rules.single(pem_key(&pem)?, |key| {
                format!(
                    "public_key is a {:?} key, and algorithms names none of its algorithms",
                    key.family()
                )
            })?],
            JwtKeys::Jwks(document) => rules.keys_of_jwks(document.as_bytes())?,
            JwtKeys::JwksUrl {
                url,
                timeout,
                min_refresh,
            } => {
                remote = Some(RemoteJwks::new(&url, timeout, min_refresh).map_err(config_error)?);
                Vec::new()
            }
        };
        Ok(Self {
            rules,
            keys: RwLock::new(Arc::new(verifying)),
            remote,
            other_required,
            scopes: settings.scopes,
            cookie: settings.cookie,
            max_token_bytes: settings.max_token_bytes,
        })
    }

    /// The keys to try now: for a JWKS URL never fetched yet, fetched first.
    async fn current_keys(&self) -> Arc<Vec<VerifyingKey>> {
        let keys = Arc::clone(&self.keys.read());
        match &self.remote {
            Some(remote) if keys.is_empty() => self.refreshed(remote).await.unwrap_or(keys),
            _ => keys,
        }
    }

    /// Fetches the JWKS again (at most once a minute, one fetch at a time) and keeps what it
    /// holds; None when no fetch was due or it failed (the keys known stay in use).
    async fn refreshed(&self, remote: &RemoteJwks) -> Option<Arc<Vec<VerifyingKey>>> {
        let document = remote.fetch_if_due().await?;
        match self.rules.keys_of_jwks(&document) {
            Ok(keys) => {
                let keys = Arc::new(keys);
                *self.keys.write() = Arc::clone(&keys);
                Some(keys)
            }
            Err(err) => {
                tracing::warn!(url = %remote.url, %err, "the JWKS fetched is not usable");
                None
            }
        }
    }

    fn token<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        bearer_token(headers).or_else(|| {
            self.cookie
                .as_deref()
                .and_then(|name| cookie(headers, name))
        })
    }

    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> Result<(Bytes, Option<String>), Refusal> {
        let token = self.token(headers).ok_or(Refusal::Missing)?;
        if token.len() > self.max_token_bytes {
            return Err(Refusal::Invalid("the token is too large".to_owned()));
        }
        let header = TokenHeader::of(token)?;
        let mut keys = self.current_keys().await;
        if let (Some(remote), Some(kid)) = (&self.remote, header.kid.as_deref()) {
            // a key the set does not have: the issuer may have rotated its keys
            if !keys.iter().any(|key| key.kid.as_deref() == Some(kid)) {
                if let Some(fresh) = self.refreshed(remote).await {
                    keys = fresh;
                }
            }
        }
        let payload = verify(token, &header, &keys)?;
        // the claims must be one JSON object (a struct also deserialises from an array)
        if payload.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Refusal::Invalid("the token is malformed".to_owned()));
        }
        let claims: Probe = serde_json::from_slice(&payload)
            .map_err(|_| Refusal::Invalid("the token is malformed".to_owned()))?;
        self.rules.check_claims(&claims)?;
        if !self.other_required.is_empty() {
            let all: Map<String, Value> = serde_json::from_slice(&payload)
                .map_err(|_| Refusal::Invalid("the token is malformed".to_owned()))?;
            if let Some(missing) = self
                .other_required
                .iter()
                .find(|claim| !all.contains_key(claim.as_str()))
            {
                return Err(Refusal::Invalid(format!(
                    "the token lacks the {missing} claim"
                )));
            }
        }
        let missing_scopes = missing_scopes(&claims, &self.scopes);
        if !missing_scopes.is_empty() {
            return Err(Refusal::InsufficientScope(missing_scopes));
        }
        let subject = match claims.sub {
            Some(Value::String(subject)) => Some(subject),
            _ => None,
        };
        Ok((Bytes::from(payload), subject))
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 section 3).
    pub(crate) fn challenge(&self, refusal: &Refusal) -> Option<HeaderValue> {
        let text = match refusal {
            Refusal::Missing => "Bearer".to_owned(),
            Refusal::Invalid(reason) => {
                format!("Bearer error=\"invalid_token\", error_description=\"{reason}\"")
            }
            Refusal::InsufficientScope(_) => format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                self.scopes.join(" ")
            ),
        };
        HeaderValue::from_str(&text).ok()
    }
}

/// What the core reads of a token's header: the algorithm and the key id. (jsonwebtoken's
/// own header type gathers every other member into a map as well, which costs more than
/// the HS256 signature check itself.)
struct TokenHeader {
    alg: Algorithm,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

impl TokenHeader {
    fn of(token: &str) -> Result<Self, Refusal> {
        let malformed = || Refusal::Invalid("the token is malformed".to_owned());
        let encoded = token.split('.').next().ok_or_else(malformed)?;
        let json = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| malformed())?;
        // one JSON object (a struct also deserialises from an array)
        if json.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
            return Err(malformed());
        }
        let raw: RawHeader = serde_json::from_slice(&json).map_err(|_| malformed())?;
        // `none` (in any case) is no algorithm jsonwebtoken knows: the token is malformed
        let alg = raw.alg.parse().map_err(|_| malformed())?;
        Ok(Self { alg, kid: raw.kid })
    }
}

/// The claims a token's signature covers, as far as the core checks them; the rest of the
/// payload is the handler's (the binding reads the payload's own bytes).
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    exp: Option<Value>,
    #[serde(default)]
    nbf: Option<Value>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    iss: Option<Value>,
    #[serde(default)]
    sub: Option<Value>,
    #[serde(default)]
    scope: Option<Value>,
    #[serde(default)]
    scp: Option<Value>,
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |elapsed| elapsed.as_secs_f64())
}

/// The payload of `token` (its JSON bytes) once the key its header picks among `keys` has
/// verified its signature.
fn verify(token: &str, header: &TokenHeader, keys: &[VerifyingKey]) -> Result<Vec<u8>, Refusal> {
    let malformed = || Refusal::Invalid("the token is malformed".to_owned());
    let mut parts = token.split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let by_kid = header
        .kid
        .as_deref()
        .filter(|_| keys.iter().any(|key| key.kid.is_some()));
    let mut candidates = keys
        .iter()
        .filter(|key| by_kid.is_none_or(|kid| key.kid.as_deref() == Some(kid)))
        .peekable();
    if by_kid.is_some() && candidates.peek().is_none() {
        return Err(Refusal::Invalid(
            "the token's signing key is not known".to_owned(),
        ));
    }
    if keys.is_empty() {
        return Err(Refusal::Invalid(
            "the token's signing keys cannot be fetched".to_owned(),
        ));
    }
    let mut candidates = candidates
        .filter(|key| key.algorithms.contains(&header.alg))
        .peekable();
    if candidates.peek().is_none() {
        return Err(Refusal::Invalid(
            "the token's algorithm is not accepted".to_owned(),
        ));
    }
    let message = &token[..head.len() + 1 + payload.len()];
    let verified = candidates.any(|key| {
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.key, header.alg)
            .unwrap_or(false)
    });
    if !verified {
        return Err(Refusal::Invalid(
            "the token's signature is not valid".to_owned(),
        ));
    }
    URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())
}

/// The required scopes `claims` does not grant.
fn missing_scopes(claims: &Probe, required: &[String]) -> Vec<String> {
    if required.is_empty() {
        return Vec::new();
    }
    let mut granted: Vec<&str> = Vec::new();
    for claim in [&claims.scope, &claims.scp] {
        match claim {
            Some(Value::String(text)) => granted.extend(text.split_ascii_whitespace()),
            Some(Value::Array(items)) => granted.extend(items.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
    required
        .iter()
        .filter(|scope| !granted.contains(&scope.as_str()))
        .cloned()
        .collect()
}
