"""A corpus of forged, broken and misused JWTs: every one is refused with 401 before the
handler runs, none crashes the server and no refusal echoes the token or its claims."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ferroweb import App, Request
from ferroweb.security import JWTAuth
from ferroweb.testing import TestClient

SECRET = "the-hs256-secret-of-this-test-suite-0123456789"
AUDIENCE = "api"
ISSUER = "https://idp.example"
#: What a forged token claims to be; it must never be seen in a response.
INTRUDER = "mallory-the-intruder"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def payload(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": INTRUDER, "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 600}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


@dataclass(frozen=True)
class Keys:
    rsa: rsa.RSAPrivateKey
    rsa_public_pem: bytes
    other_rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    ec_public_pem: bytes
    jwks_path: Path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_pem = ec_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": "current", "alg": "RS256", "use": "sig"}]}))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Keys(private, public_pem, other, ec_key, ec_pem, path)


@pytest.fixture(scope="module")
def reached() -> list[str]:
    return []


@pytest.fixture(scope="module")
def client(keys: Keys, reached: list[str]) -> Iterator[TestClient]:
    app = App()
    checks: dict[str, Any] = {"audience": AUDIENCE, "issuer": ISSUER}
    schemes = {
        "/rs": JWTAuth(public_key=keys.rsa_public_pem, algorithms=["RS256"], **checks),
        "/hs": JWTAuth(secret=SECRET, algorithms=["HS256"], leeway=30, **checks),
        "/es": JWTAuth(public_key=keys.ec_public_pem, algorithms=["ES256"], **checks),
        "/jwks": JWTAuth(jwks_file=keys.jwks_path, algorithms=["RS256"], **checks),
        # every algorithm allowed: each key still only verifies its own family
        "/any": JWTAuth(public_key=keys.rsa_public_pem, **checks),
    }
    for path, scheme in schemes.items():

        def handler(request: Request, path: str = path) -> dict[str, Any]:
            reached.append(path)
            return {"sub": (request.auth or {}).get("sub")}

        app.add_route(path, handler, auth=scheme)
    with TestClient(app) as client:
        yield client


def rs256(keys: Keys, claims: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(claims, keys.rsa, algorithm="RS256", headers=headers or None)


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return f"{segment(header)}.{segment(claims)}.{signature}"


def hmac_with(key: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    import hashlib
    import hmac

    message = f"{segment(header)}.{segment(claims)}"
    signature = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return f"{message}.{b64(signature)}"


def tamper_payload(token: str) -> str:
    head, _, signature = token.split(".")
    return f"{head}.{segment(payload(sub='admin', role='root'))}.{signature}"


def flip_signature(token: str) -> str:
    head, body, signature = token.split(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    return f"{head}.{body}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"


def zero_ecdsa_signature() -> str:
    """CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify."""
    return unsigned({"alg": "ES256", "typ": "JWT"}, payload(), b64(bytes(64)))


Attack = Callable[[Keys], str]

ATTACKS: dict[str, tuple[str, Attack]] = {
    "alg none": ("/rs", lambda k: unsigned({"alg": "none", "typ": "JWT"}, payload())),
    "alg None": ("/rs", lambda k: unsigned({"alg": "None"}, payload())),
    "alg NONE with a copied signature": (
        "/rs",
        lambda k: unsigned({"alg": "NONE"}, payload(), rs256(k, payload()).split(".")[2]),
    ),
    "alg none on an HMAC route": ("/hs", lambda k: unsigned({"alg": "none"}, payload())),
    "HS256 signed with the RSA public key (key confusion)": (
        "/rs",
        lambda k: hmac_with(k.rsa_public_pem, {"alg": "HS256", "typ": "JWT"}, payload()),
    ),
    "HS256 with the RSA public key on an all-algorithms route": (
        "/any",
        lambda k: hmac_with(k.rsa_public_pem, {"alg": "HS256", "typ": "JWT"}, payload()),
    ),
    "HS256 with the public key, trimmed": (
        "/rs",
        lambda k: hmac_with(k.rsa_public_pem.strip(), {"alg": "HS256"}, payload()),
    ),
    "ES256 token on an RS256 route": (
        "/rs",
        lambda k: jwt.encode(payload(), k.ec, algorithm="ES256"),
    ),
    "psychic ECDSA signature": ("/es", lambda k: zero_ecdsa_signature()),
    "expired": ("/rs", lambda k: rs256(k, payload(exp=int(time.time()) - 5))),
    "expired beyond the leeway": (
        "/hs",
        lambda k: jwt.encode(payload(exp=int(time.time()) - 120), SECRET, algorithm="HS256"),
    ),
    "nbf in the future": ("/rs", lambda k: rs256(k, payload(nbf=int(time.time()) + 3600))),
    "no exp": ("/rs", lambda k: rs256(k, payload(exp=None))),
    "exp as text": ("/rs", lambda k: rs256(k, payload(exp="99999999999"))),
    "wrong audience": ("/rs", lambda k: rs256(k, payload(aud="other-api"))),
    "audience list without ours": ("/rs", lambda k: rs256(k, payload(aud=["a", "b"]))),
    "no audience": ("/rs", lambda k: rs256(k, payload(aud=None))),
    "wrong issuer": ("/rs", lambda k: rs256(k, payload(iss="https://evil.example"))),
    "tampered payload": ("/rs", lambda k: tamper_payload(rs256(k, payload()))),
    "tampered signature": ("/rs", lambda k: flip_signature(rs256(k, payload()))),
    "signature stripped": ("/rs", lambda k: rs256(k, payload()).rsplit(".", 1)[0] + "."),
    "signed by another RSA key": ("/rs", lambda k: jwt.encode(payload(), k.other_rsa, algorithm="RS256")),
    "HS256 with another secret": (
        "/hs",
        lambda k: jwt.encode(payload(), "not-the-secret-but-long-enough-for-hs256", algorithm="HS256"),
    ),
    "unknown kid": ("/jwks", lambda k: rs256(k, payload(), kid="retired-2019")),
    "kid path injection": ("/jwks", lambda k: rs256(k, payload(), kid="../../../../dev/null")),
    "kid SQL injection": ("/jwks", lambda k: rs256(k, payload(), kid="' OR '1'='1")),
    "rotated-out key (kid of the current key, old signature)": (
        "/jwks",
        lambda k: jwt.encode(payload(), k.other_rsa, algorithm="RS256", headers={"kid": "current"}),
    ),
    "embedded jwk header with the attacker's key": (
        "/jwks",
        lambda k: jwt.encode(
            payload(),
            k.other_rsa,
            algorithm="RS256",
            headers={"jwk": json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.other_rsa.public_key()))},
        ),
    ),
    "jku header pointing elsewhere": (
        "/jwks",
        lambda k: jwt.encode(
            payload(), k.other_rsa, algorithm="RS256", headers={"jku": "http://127.0.0.1:1/jwks.json"}
        ),
    ),
    "oversized token": ("/rs", lambda k: rs256(k, payload(padding="x" * 20_000))),
    "malformed base64": ("/rs", lambda k: "!!!!.@@@@.####"),
    "two segments": ("/rs", lambda k: ".".join(rs256(k, payload()).split(".")[:2])),
    "five segments (JWE shape)": ("/rs", lambda k: rs256(k, payload()) + ".AAAA.BBBB"),
    "header is not JSON": ("/rs", lambda k: f"{b64(b'not json')}.{segment(payload())}.AAAA"),
    "payload is not JSON": ("/rs", lambda k: f"{segment({'alg': 'RS256'})}.{b64(b'{broken')}.AAAA"),
    "header is a JSON list": ("/rs", lambda k: f"{b64(b'[1,2]')}.{segment(payload())}.AAAA"),
    "NUL bytes in kid": ("/jwks", lambda k: rs256(k, payload(), kid="current\u0000../x")),
}


def test_the_corpus_is_large_enough() -> None:
    assert len(ATTACKS) >= 25


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_before_the_handler(
    name: str, keys: Keys, client: TestClient, reached: list[str]
) -> None:
    path, make = ATTACKS[name]
    token = make(keys)
    before = list(reached)
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert reached == before, "the handler ran"
    body = response.text
    assert INTRUDER not in body and INTRUDER not in response.headers["www-authenticate"]
    for part in token.split("."):
        if len(part) > 8:
            assert part not in body
    # the server keeps serving genuine tokens
    genuine = rs256(keys, payload(sub="alice"), **({"kid": "current"} if path == "/jwks" else {}))
    if path in ("/rs", "/jwks", "/any"):
        assert client.get(path, headers={"Authorization": f"Bearer {genuine}"}).json() == {"sub": "alice"}


def test_genuine_tokens_pass_on_every_route(keys: Keys, client: TestClient) -> None:
    tokens = {
        "/rs": rs256(keys, payload(sub="alice")),
        "/hs": jwt.encode(payload(sub="alice", exp=int(time.time()) - 10), SECRET, algorithm="HS256"),
        "/es": jwt.encode(payload(sub="alice"), keys.ec, algorithm="ES256"),
        "/jwks": rs256(keys, payload(sub="alice"), kid="current"),
        "/any": rs256(keys, payload(sub="alice")),
    }
    for path, token in tokens.items():
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.json() == {"sub": "alice"}, (path, response.text)
