"""ferroweb.security through the test client: JWTAuth and APIKeyAuth on apps, routers and
routes, ``request.auth``, claims types, refusals and what a declaration refuses."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ferroweb import App, Request, Router
from ferroweb.middleware import CORS
from ferroweb.security import APIKeyAuth, JWTAuth
from ferroweb.testing import TestClient

SECRET = "a-secret-of-at-least-32-bytes-for-hs256!"
AUDIENCE = "api"
ISSUER = "https://idp.example"


def claims(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sub": "alice", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 600}
    base.update(extra)
    return {key: value for key, value in base.items() if value is not None}


def hs256(**extra: Any) -> str:
    return jwt.encode(claims(**extra), SECRET, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jwt_auth(**options: Any) -> JWTAuth:
    return JWTAuth(secret=SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER, **options)


class Claims(msgspec.Struct):
    sub: str
    exp: int
    role: str = "user"


def make_app(calls: list[str]) -> App:
    auth = jwt_auth(claims_type=Claims)
    app = App(auth=auth)

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        calls.append("me")
        assert request.auth is not None
        return {"sub": request.auth["sub"]}

    @app.get("/health", auth=None)
    def health(request: Request) -> dict[str, Any]:
        calls.append("health")
        return {"ok": True, "auth": request.auth}

    @app.get("/admin", auth=jwt_auth(scopes=["admin"]))
    def admin() -> dict[str, str]:
        calls.append("admin")
        return {"area": "admin"}

    @app.get("/partner", auth=[auth, APIKeyAuth(keys={"k1": "partner-one", "k2": "partner-two"})])
    def partner(request: Request) -> dict[str, Any]:
        calls.append("partner")
        return dict(request.auth or {})

    @app.get("/typed")
    def typed(user: Claims) -> dict[str, str]:
        calls.append("typed")
        return {"sub": user.sub, "role": user.role}

    return app


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def client(calls: list[str], open_client: Callable[[App], TestClient]) -> TestClient:
    return open_client(make_app(calls))


def test_a_valid_token_reaches_the_handler_with_its_claims(client: TestClient, calls: list[str]) -> None:
    response = client.get("/me", headers=bearer(hs256()))
    assert response.status_code == 200
    assert response.json() == {"sub": "alice"}
    assert calls == ["me"]


def test_no_token_is_a_401_problem_with_a_bearer_challenge(client: TestClient, calls: list[str]) -> None:
    response = client.get("/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "this resource needs authentication",
        "instance": "/me",
    }
    assert calls == []


def test_an_expired_token_says_so_without_echoing_it(client: TestClient, calls: list[str]) -> None:
    token = hs256(exp=int(time.time()) - 5)
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "the token has expired"
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="the token has expired"'
    )
    assert token not in response.text
    assert calls == []


def test_auth_none_makes_a_route_public(client: TestClient) -> None:
    response = client.get("/health")
    assert response.json() == {"ok": True, "auth": None}


def test_missing_scopes_are_403_insufficient_scope(client: TestClient, calls: list[str]) -> None:
    response = client.get("/admin", headers=bearer(hs256(scope="read write")))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'
    assert response.json()["detail"] == "the token lacks the required scope: admin"
    assert client.get("/admin", headers=bearer(hs256(scope="read admin"))).status_code == 200
    assert client.get("/admin", headers=bearer(hs256(scp=["admin"]))).status_code == 200
    assert calls == ["admin", "admin"]


def test_a_list_of_schemes_accepts_any_one(client: TestClient) -> None:
    assert client.get("/partner", headers={"X-API-Key": "k2"}).json() == {"sub": "partner-two"}
    assert client.get("/partner", headers=bearer(hs256())).json()["sub"] == "alice"
    refused = client.get("/partner", headers={"X-API-Key": "nope"})
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the API key is not valid"
    assert "nope" not in refused.text
    assert refused.headers.get_list("www-authenticate") == ["Bearer", 'ApiKey header="x-api-key"']


def test_a_claims_type_parameter_receives_the_decoded_claims(client: TestClient) -> None:
    response = client.get("/typed", headers=bearer(hs256(role="editor")))
    assert response.json() == {"sub": "alice", "role": "editor"}


def test_claims_that_do_not_fit_the_claims_type_are_refused_with_401(client: TestClient) -> None:
    response = client.get("/typed", headers=bearer(hs256(role=7)))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_router_auth_applies_to_its_routes_and_routes_may_opt_out(
    open_client: Callable[[App], TestClient],
) -> None:
    keys = APIKeyAuth(keys=["secret-key"], header=None, query="api_key")
    router = Router(prefix="/v1", auth=keys)

    @router.get("/data")
    def data(request: Request) -> dict[str, Any]:
        return {"who": (request.auth or {}).get("sub")}

    @router.get("/open", auth=None)
    def open_route() -> dict[str, bool]:
        return {"open": True}

    app = App()
    app.include_router(router)

    @app.get("/plain")
    def plain() -> dict[str, bool]:
        return {"plain": True}

    client = open_client(app)
    assert client.get("/v1/data?api_key=secret-key").json() == {"who": "key-0"}
    assert client.get("/v1/data").status_code == 401
    assert client.get("/v1/open").json() == {"open": True}
    assert client.get("/plain").json() == {"plain": True}


def test_an_including_router_auth_applies_to_routes_that_state_none(
    open_client: Callable[[App], TestClient],
) -> None:
    inner = Router()

    @inner.get("/x")
    def x() -> dict[str, int]:
        return {"x": 1}

    app = App(auth=APIKeyAuth(keys=["k"], cookie="key", header=None))
    app.include_router(inner, prefix="/inner")
    client = open_client(app)
    assert client.get("/inner/x").status_code == 401
    client.cookies.set("key", "k")
    assert client.get("/inner/x").json() == {"x": 1}


def test_refusals_keep_cors_headers_and_preflights_need_no_credentials(
    open_client: Callable[[App], TestClient],
) -> None:
    app = App(
        auth=jwt_auth(),
        middleware=[CORS(allow_origins=["https://app.example"], allow_headers=["Authorization"])],
    )

    @app.get("/me")
    def me() -> dict[str, bool]:
        return {"me": True}

    client = open_client(app)
    origin = {"Origin": "https://app.example"}
    refused = client.get("/me", headers=origin)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://app.example"
    preflight = client.options(
        "/me",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 204


def test_docs_and_unrouted_paths_stay_public(open_client: Callable[[App], TestClient]) -> None:
    app = App(auth=jwt_auth())

    @app.get("/me")
    def me() -> dict[str, bool]:
        return {"me": True}

    client = open_client(app)
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.get("/nowhere").status_code == 404


def test_token_from_a_cookie(open_client: Callable[[App], TestClient]) -> None:
    app = App(auth=jwt_auth(cookie="access_token"))

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        return {"sub": (request.auth or {})["sub"]}

    client = open_client(app)
    client.cookies.set("access_token", hs256())
    assert client.get("/me").json() == {"sub": "alice"}


def pem(public_key: Any) -> bytes:
    encoded: bytes = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded


@pytest.mark.parametrize(
    ("algorithm", "make_key"),
    [
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("PS384", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
        ("ES384", lambda: ec.generate_private_key(ec.SECP384R1())),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate),
    ],
)
def test_public_key_algorithms(
    algorithm: str, make_key: Any, open_client: Callable[[App], TestClient]
) -> None:
    private = make_key()
    app = App(auth=JWTAuth(public_key=pem(private.public_key()), algorithms=[algorithm], audience=AUDIENCE))

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        return {"sub": (request.auth or {})["sub"]}

    client = open_client(app)
    token = jwt.encode(claims(iss=None), private, algorithm=algorithm)
    assert client.get("/me", headers=bearer(token)).json() == {"sub": "alice"}
    other = jwt.encode(claims(iss=None), make_key(), algorithm=algorithm)
    assert client.get("/me", headers=bearer(other)).status_code == 401


def test_jwks_file_keys_are_picked_by_kid(tmp_path: Path, open_client: Callable[[App], TestClient]) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    keys = []
    for kid, key in (("one", first), ("two", second)):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    app = App(auth=JWTAuth(jwks_file=path, algorithms=["RS256"]))

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        return {"sub": (request.auth or {})["sub"]}

    client = open_client(app)
    payload = claims(aud=None, iss=None)
    for kid, key in (("one", first), ("two", second)):
        token = jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})
        assert client.get("/me", headers=bearer(token)).json() == {"sub": "alice"}
    crossed = jwt.encode(payload, first, algorithm="RS256", headers={"kid": "two"})
    assert client.get("/me", headers=bearer(crossed)).status_code == 401


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="exactly one of secret=, public_key=, jwks_file="):
        JWTAuth()
    with pytest.raises(ValueError, match="exactly one of"):
        JWTAuth(secret="s", public_key="k")
    with pytest.raises(ValueError, match="unknown JWT algorithm"):
        JWTAuth(secret="s", algorithms=["none"])
    with pytest.raises(ValueError, match="HS256/384/512"):
        JWTAuth(secret="s", algorithms=["RS256"])
    with pytest.raises(ValueError, match="PEM RSA, EC or Ed25519"):
        JWTAuth(public_key="not a key", algorithms=["RS256"])
    with pytest.raises(ValueError, match="cannot read jwks_file"):
        JWTAuth(jwks_file="/nonexistent/jwks.json")
    with pytest.raises(ValueError, match="leeway"):
        JWTAuth(secret="s", leeway=-1)
    with pytest.raises(TypeError, match="single string"):
        APIKeyAuth(keys="k1")
    with pytest.raises(ValueError, match="at least one key"):
        APIKeyAuth(keys=[])
    with pytest.raises(ValueError, match="header, query or cookie"):
        APIKeyAuth(keys=["k"], header=None)
    app = App()
    with pytest.raises(ValueError, match="auth=None"):
        app.get("/x", auth=[])(lambda: None)
    with pytest.raises(TypeError, match="auth="):
        app.get("/x", auth="token")(lambda: None)


def test_reprs_leave_the_keys_out() -> None:
    assert SECRET not in repr(jwt_auth())
    assert "k1" not in repr(APIKeyAuth(keys=["k1"]))


def test_the_openapi_document_describes_the_schemes() -> None:
    from openapi_spec_validator import validate

    app = make_app([])
    document = app.openapi()
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    paths = document["paths"]
    assert paths["/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/health"]["get"]
    assert paths["/admin"]["get"]["security"] == [{"bearerAuth": ["admin"]}]
    assert "403" in paths["/admin"]["get"]["responses"]
    assert paths["/partner"]["get"]["security"] == [{"bearerAuth": []}, {"apiKeyAuth": []}]
    assert "401" in paths["/me"]["get"]["responses"]
    # the claims parameter is not a request parameter
    assert "parameters" not in paths["/typed"]["get"]


def test_verify_checks_keys_kept_elsewhere_and_caches_answers(
    open_client: Callable[[App], TestClient],
) -> None:
    asked: list[str] = []

    def lookup(key: str) -> Any:
        asked.append(key)
        return {"sub": "svc", "tier": "gold"} if key == "db-key" else None

    app = App(auth=APIKeyAuth(verify=lookup))

    @app.get("/svc")
    def svc(request: Request) -> dict[str, Any]:
        return dict(request.auth or {})

    client = open_client(app)
    assert client.get("/svc", headers={"X-API-Key": "db-key"}).json() == {"sub": "svc", "tier": "gold"}
    assert client.get("/svc", headers={"X-API-Key": "db-key"}).status_code == 200
    refused = client.get("/svc", headers={"X-API-Key": "guess"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'ApiKey header="x-api-key"'
    assert "guess" not in refused.text
    assert client.get("/svc", headers={"X-API-Key": "guess"}).status_code == 401
    assert client.get("/svc").status_code == 401
    assert asked == ["db-key", "guess"]  # each key asked once, then cached


def test_an_async_verify_and_a_list_with_jwt(open_client: Callable[[App], TestClient]) -> None:
    async def lookup(key: str) -> str | bool:
        return "async-svc" if key == "k" else False

    app = App()

    @app.get("/either", auth=[jwt_auth(), APIKeyAuth(verify=lookup, header=None, query="key")])
    async def either(request: Request) -> dict[str, Any]:
        return {"sub": (request.auth or {}).get("sub")}

    client = open_client(app)
    assert client.get("/either?key=k").json() == {"sub": "async-svc"}
    assert client.get("/either", headers=bearer(hs256())).json() == {"sub": "alice"}
    assert client.get("/either?key=bad").status_code == 401


def test_verify_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="exactly one of keys= and verify="):
        APIKeyAuth()
    with pytest.raises(ValueError, match="exactly one of keys= and verify="):
        APIKeyAuth(keys=["k"], verify=lambda key: True)
    app = App()

    @app.websocket("/ws", auth=APIKeyAuth(verify=lambda key: True))
    async def ws(websocket: Any) -> None:
        await websocket.accept()

    with pytest.raises(TypeError, match="WebSocket route"), TestClient(app):
        pass


class JwksServer:
    """An HTTP server of the test's own serving a JWKS document that the test may change,
    counting the fetches."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.document: dict[str, Any] = {"keys": []}
        self.fetches = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def rsa_jwk(key: Any, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def test_a_jwks_url_is_fetched_on_first_use_and_again_for_a_new_kid(
    open_client: Callable[[App], TestClient],
) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    jwks = JwksServer()
    try:
        jwks.document = {"keys": [rsa_jwk(first, "one")]}
        app = App(auth=JWTAuth(jwks_url=jwks.url, algorithms=["RS256"]))

        @app.get("/me")
        def me(request: Request) -> dict[str, Any]:
            return {"sub": (request.auth or {})["sub"]}

        client = open_client(app)
        assert jwks.fetches == 0  # nothing is fetched before a token needs it
        payload = claims(aud=None, iss=None)
        token = jwt.encode(payload, first, algorithm="RS256", headers={"kid": "one"})
        assert client.get("/me", headers=bearer(token)).json() == {"sub": "alice"}
        assert client.get("/me", headers=bearer(token)).status_code == 200
        assert jwks.fetches == 1
        # the issuer rotates: a token with the new kid makes the set be fetched again...
        jwks.document = {"keys": [rsa_jwk(first, "one"), rsa_jwk(second, "two")]}
        rotated = jwt.encode(payload, second, algorithm="RS256", headers={"kid": "two"})
        # ...but not within a minute of the last fetch: refused until then
        assert client.get("/me", headers=bearer(rotated)).status_code == 401
        assert jwks.fetches == 1
        unknown = jwt.encode(payload, second, algorithm="RS256", headers={"kid": "three"})
        for _ in range(5):
            assert client.get("/me", headers=bearer(unknown)).status_code == 401
        assert jwks.fetches == 1
    finally:
        jwks.close()


def test_a_rotated_key_is_fetched_once_the_minimum_interval_passed(
    open_client: Callable[[App], TestClient],
) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    jwks = JwksServer()
    try:
        jwks.document = {"keys": [rsa_jwk(first, "one")]}
        app = App(auth=JWTAuth(jwks_url=jwks.url, algorithms=["RS256"], jwks_min_refresh=0.2))

        @app.get("/me")
        def me(request: Request) -> dict[str, Any]:
            return {"sub": (request.auth or {})["sub"]}

        client = open_client(app)
        payload = claims(aud=None, iss=None)
        old = jwt.encode(payload, first, algorithm="RS256", headers={"kid": "one"})
        assert client.get("/me", headers=bearer(old)).status_code == 200
        jwks.document = {"keys": [rsa_jwk(second, "two")]}  # "one" retired
        time.sleep(0.3)
        rotated = jwt.encode(payload, second, algorithm="RS256", headers={"kid": "two"})
        assert client.get("/me", headers=bearer(rotated)).json() == {"sub": "alice"}
        assert jwks.fetches == 2
        # the retired key is gone with the old set
        assert client.get("/me", headers=bearer(old)).status_code == 401
    finally:
        jwks.close()


def test_a_jwks_url_that_cannot_be_fetched_refuses_tokens(open_client: Callable[[App], TestClient]) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app = App(auth=JWTAuth(jwks_url="http://127.0.0.1:9/jwks.json", algorithms=["RS256"], jwks_timeout=1))

    @app.get("/me")
    def me() -> dict[str, bool]:
        return {"me": True}

    client = open_client(app)
    token = jwt.encode(claims(aud=None, iss=None), key, algorithm="RS256", headers={"kid": "k"})
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "the token's signing keys cannot be fetched"
    with pytest.raises(ValueError, match="http:// or https://"):
        JWTAuth(jwks_url="ftp://idp.example/jwks.json")
