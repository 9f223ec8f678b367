use super::*;
use http::HeaderName;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::json;

/// The tests' way to authenticate: a runtime of their own for the (rarely waiting) check.
trait AuthenticateNow {
    fn authenticate_now(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<Identity, Box<Response<Body>>>;
}

impl AuthenticateNow for AuthPolicy {
    fn authenticate_now(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<Identity, Box<Response<Body>>> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(self.authenticate(headers, uri))
    }
}

const SECRET: &[u8] = b"a secret long enough for HS256 tests";

fn settings() -> JwtSettings {
    JwtSettings {
        algorithms: vec!["HS256".to_owned()],
        audience: vec!["api".to_owned()],
        issuer: vec!["https://idp.example".to_owned()],
        leeway: 0,
        required_claims: vec!["exp".to_owned()],
        scopes: Vec::new(),
        cookie: Some("access".to_owned()),
        max_token_bytes: 8192,
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn token(claims: &serde_json::Value) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap()
}

fn good_claims() -> serde_json::Value {
    json!({"sub": "alice", "aud": "api", "iss": "https://idp.example", "exp": now() + 600, "scope": "read write"})
}

fn jwt_policy(settings: JwtSettings) -> AuthPolicy {
    let scheme = JwtScheme::new(JwtKeys::Secret(SECRET.to_vec()), settings).unwrap();
    AuthPolicy::any_of(vec![AuthScheme::Jwt(Arc::new(scheme))]).unwrap()
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

fn uri() -> Uri {
    "/me".parse().unwrap()
}

fn refused(policy: &AuthPolicy, headers: &HeaderMap) -> (StatusCode, Vec<String>) {
    let response = policy.authenticate_now(headers, &uri()).unwrap_err();
    let challenges = response
        .headers()
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect();
    (response.status(), challenges)
}

#[test]
fn a_valid_token_yields_its_claims_and_subject() {
    let policy = jwt_policy(settings());
    let identity = policy
        .authenticate_now(&bearer(&token(&good_claims())), &uri())
        .unwrap();
    assert_eq!(identity.scheme, 0);
    assert_eq!(identity.subject.as_deref(), Some("alice"));
    let claims: serde_json::Value = serde_json::from_slice(&identity.claims).unwrap();
    assert_eq!(claims["scope"], "read write");
}

#[test]
fn a_token_in_the_configured_cookie_is_accepted() {
    let policy = jwt_policy(settings());
    let mut headers = HeaderMap::new();
    let cookie = format!("theme=dark; access={}", token(&good_claims()));
    headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
    assert!(policy.authenticate_now(&headers, &uri()).is_ok());
}

#[test]
fn no_credentials_get_a_bare_bearer_challenge() {
    let policy = jwt_policy(settings());
    let (status, challenges) = refused(&policy, &HeaderMap::new());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges, ["Bearer"]);
}

#[test]
fn expired_wrong_audience_and_wrong_issuer_tokens_are_invalid() {
    let policy = jwt_policy(settings());
    let mut expired = good_claims();
    expired["exp"] = json!(now() - 10);
    let mut audience = good_claims();
    audience["aud"] = json!("other");
    let mut issuer = good_claims();
    issuer["iss"] = json!("https://evil.example");
    let mut no_audience = good_claims();
    no_audience.as_object_mut().unwrap().remove("aud");
    for (claims, reason) in [
        (expired, "the token has expired"),
        (audience, "the token is not meant for this audience"),
        (issuer, "the token's issuer is not accepted"),
        (no_audience, "the token lacks the aud claim"),
    ] {
        let (status, challenges) = refused(&policy, &bearer(&token(&claims)));
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            challenges,
            [format!(
                "Bearer error=\"invalid_token\", error_description=\"{reason}\""
            )]
        );
    }
}

#[test]
fn a_token_signed_with_another_secret_or_tampered_is_refused() {
    let policy = jwt_policy(settings());
    let forged = encode(
        &Header::default(),
        &good_claims(),
        &EncodingKey::from_secret(b"another secret").unwrap(),
    )
    .unwrap();
    assert_eq!(
        refused(&policy, &bearer(&forged)).0,
        StatusCode::UNAUTHORIZED
    );
    let genuine = token(&good_claims());
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let other = token(
        &json!({"sub": "mallory", "aud": "api", "iss": "https://idp.example", "exp": now() + 600}),
    );
    parts[1] = other.split('.').nth(1).unwrap();
    assert_eq!(
        refused(&policy, &bearer(&parts.join("."))).0,
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn alg_none_and_garbage_are_malformed() {
    let policy = jwt_policy(settings());
    // {"alg":"none","typ":"JWT"} . {"sub":"alice"} . (no signature)
    let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSJ9.";
    for bad in [none, "not-a-token", "a.b.c", "...."] {
        let (status, challenges) = refused(&policy, &bearer(bad));
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            challenges[0].contains("invalid_token"),
            "{bad}: {challenges:?}"
        );
        assert!(!challenges[0].contains(bad) || bad.len() < 5);
    }
}

#[test]
fn an_oversized_token_is_refused_before_decoding() {
    let mut small = settings();
    small.max_token_bytes = 64;
    let policy = jwt_policy(small);
    let (status, challenges) = refused(&policy, &bearer(&token(&good_claims())));
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenges[0].contains("the token is too large"));
}

#[test]
fn missing_scopes_are_forbidden_with_an_insufficient_scope_challenge() {
    let mut scoped = settings();
    scoped.scopes = vec!["admin".to_owned()];
    let policy = jwt_policy(scoped);
    let (status, challenges) = refused(&policy, &bearer(&token(&good_claims())));
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenges,
        ["Bearer error=\"insufficient_scope\", scope=\"admin\""]
    );
    let mut admin = good_claims();
    admin["scp"] = json!(["admin"]);
    assert!(policy
        .authenticate_now(&bearer(&token(&admin)), &uri())
        .is_ok());
}

#[test]
fn custom_required_claims_are_checked() {
    let mut tenant = settings();
    tenant.required_claims = vec!["exp".to_owned(), "tenant".to_owned()];
    let policy = jwt_policy(tenant);
    let (_, challenges) = refused(&policy, &bearer(&token(&good_claims())));
    assert!(challenges[0].contains("the token lacks the tenant claim"));
}

#[test]
fn a_secret_cannot_be_asked_to_verify_rsa_tokens() {
    let mut rsa = settings();
    rsa.algorithms = vec!["RS256".to_owned()];
    let err = JwtScheme::new(JwtKeys::Secret(SECRET.to_vec()), rsa).unwrap_err();
    assert!(err.to_string().contains("HS256"));
    let mut unknown = settings();
    unknown.algorithms = vec!["none".to_owned()];
    assert!(JwtScheme::new(JwtKeys::Secret(SECRET.to_vec()), unknown).is_err());
}

#[test]
fn jwks_keys_are_picked_by_kid() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(SECRET);
    let jwks = json!({"keys": [
        {"kty": "oct", "kid": "k1", "alg": "HS256", "k": encoded},
    ]})
    .to_string();
    let scheme = JwtScheme::new(JwtKeys::Jwks(jwks), settings()).unwrap();
    let policy = AuthPolicy::any_of(vec![AuthScheme::Jwt(Arc::new(scheme))]).unwrap();
    let mut header = Header {
        kid: Some("k1".to_owned()),
        ..Header::default()
    };
    let signed = encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap();
    assert!(policy.authenticate_now(&bearer(&signed), &uri()).is_ok());
    header.kid = Some("../../etc/passwd".to_owned());
    let unknown = encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(SECRET).unwrap(),
    )
    .unwrap();
    let (_, challenges) = refused(&policy, &bearer(&unknown));
    assert!(challenges[0].contains("signing key is not known"));
}

fn api_keys() -> ApiKeyScheme {
    ApiKeyScheme::new(
        vec![
            ("k1".to_owned(), "partner-one".to_owned()),
            ("k2-longer".to_owned(), "partner-two".to_owned()),
        ],
        vec![
            ApiKeyLocation::Header(HeaderName::from_static("x-api-key")),
            ApiKeyLocation::Query("api_key".to_owned()),
        ],
    )
    .unwrap()
}

#[test]
fn api_keys_from_a_header_or_the_query_name_their_subject() {
    let policy = AuthPolicy::any_of(vec![AuthScheme::ApiKey(Arc::new(api_keys()))]).unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", HeaderValue::from_static("k2-longer"));
    let identity = policy.authenticate_now(&headers, &uri()).unwrap();
    assert_eq!(identity.subject.as_deref(), Some("partner-two"));
    assert_eq!(&identity.claims[..], br#"{"sub":"partner-two"}"#);
    let query: Uri = "/me?api_key=k1".parse().unwrap();
    let identity = policy.authenticate_now(&HeaderMap::new(), &query).unwrap();
    assert_eq!(identity.subject.as_deref(), Some("partner-one"));
    headers.insert("x-api-key", HeaderValue::from_static("k1x"));
    let response = policy.authenticate_now(&headers, &uri()).unwrap_err();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[header::WWW_AUTHENTICATE],
        "ApiKey header=\"x-api-key\", query=\"api_key\""
    );
}

#[test]
fn any_scheme_of_a_list_suffices_and_all_are_challenged() {
    let jwt = JwtScheme::new(JwtKeys::Secret(SECRET.to_vec()), settings()).unwrap();
    let policy = AuthPolicy::any_of(vec![
        AuthScheme::Jwt(Arc::new(jwt)),
        AuthScheme::ApiKey(Arc::new(api_keys())),
    ])
    .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", HeaderValue::from_static("k1"));
    assert_eq!(policy.authenticate_now(&headers, &uri()).unwrap().scheme, 1);
    assert_eq!(
        policy
            .authenticate_now(&bearer(&token(&good_claims())), &uri())
            .unwrap()
            .scheme,
        0
    );
    let (status, challenges) = refused(&policy, &HeaderMap::new());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenges.len(), 2);
    assert!(AuthPolicy::any_of(Vec::new()).is_none());
}
