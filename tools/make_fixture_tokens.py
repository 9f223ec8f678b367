"""Prints the static credentials the auth, sessions and csrf fixtures in testing_data/ carry.

    python tools/make_fixture_tokens.py          # every value, as JSON: name -> value
    python tools/make_fixture_tokens.py NAME     # one value, bare

Everything here is deterministic (HS256 and EdDSA signatures, HMAC-SHA256 cookie signatures,
a fixed Ed25519 key), so running it again prints the same values the fixtures hold; change a
claim here, run it, and paste the new value into the fixture. The secrets are the fixtures'
own (the apps the generator writes use them as given in each fixture's ``auth`` / middleware
``args``): test values, never to be used anywhere else.

- JWTs (PyJWT): signed with ``JWT_SECRET`` unless the name says otherwise, for the audience
  ``AUDIENCE`` and the issuer ``ISSUER``; valid ones expire in 2100 (``FAR_FUTURE``), the
  expired one in 2000.
- ``ed25519_public_pem``: the public key (PEM) of the fixed Ed25519 key ``eddsa_valid`` is
  signed with; ``hs256_signed_with_public_pem`` is the algorithm-confusion forgery (an HS256
  token whose HMAC key is that public PEM).
- Session cookies, as ``ferroweb.security.Sessions`` (store="cookie") writes them:
  ``base64url(json).<issued unix time>.base64url(hmac_sha256(key, "base64url(json).<issued>"))``.
- CSRF tokens, as ``ferroweb.security.CSRF`` writes them: ``<random>.base64url(hmac_sha256(
  secret, "<random>"))``, here with a fixed "random" part.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

JWT_SECRET = "ferroweb-e2e-jwt-secret-0123456789abcdef"
OTHER_SECRET = "another-secret-that-no-fixture-trusts-0123"
AUDIENCE = "ferroweb-e2e"
ISSUER = "https://issuer.e2e.example"
FAR_FUTURE = 4102444800  # 2100-01-01
LONG_AGO = 946684800  # 2000-01-01

SESSION_KEY = "ferroweb-e2e-session-key-current-0123"
SESSION_OLD_KEY = "ferroweb-e2e-session-key-previous-0123"
SESSION_FOREIGN_KEY = "a-session-key-of-some-other-app-0123"
#: When the static session cookies were issued (2026-01-01); the fixtures reading them give
#: Sessions a max_age of 100 years, so that they stay valid.
SESSION_ISSUED = 1767225600

CSRF_SECRET = "ferroweb-e2e-csrf-secret-0123456789"
CSRF_RANDOM = "e2eFixtureCsrfToken0001"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims(**changes: Any) -> dict[str, Any]:
    """Alice's claims, with changes (None removes a claim)."""
    base: dict[str, Any] = {
        "sub": "alice",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "exp": FAR_FUTURE,
        "role": "editor",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def hs256(payload: dict[str, Any], secret: str | bytes = JWT_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"ferroweb-e2e-ed25519").digest())


def public_pem() -> str:
    return (
        ed25519_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def forged_hs256(payload: dict[str, Any], key: bytes) -> str:
    """An HS256 token whose HMAC key is ``key`` (PyJWT refuses to use a PEM as an HMAC key)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64url(signature)}"


def sign(key: str, message: str) -> str:
    return f"{message}.{b64url(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest())}"


def session_cookie(data: dict[str, Any], key: str = SESSION_KEY, issued: int = SESSION_ISSUED) -> str:
    payload = b64url(json.dumps(data, separators=(",", ":")).encode())
    return sign(key, f"{payload}.{issued}")


def tampered_session_cookie() -> str:
    """Alice's cookie with its data replaced (mallory, an admin) and her signature kept."""
    _, issued, signature = session_cookie({"user": "alice"}).split(".")
    payload = b64url(json.dumps({"user": "mallory", "admin": True}, separators=(",", ":")).encode())
    return f"{payload}.{issued}.{signature}"


def values() -> dict[str, str]:
    return {
        # JWTs
        "hs256_valid": hs256(claims()),
        "hs256_valid_no_role": hs256(claims(role=None)),
        "hs256_expired": hs256(claims(exp=LONG_AGO)),
        "hs256_other_secret": hs256(claims(), OTHER_SECRET),
        "alg_none": jwt.encode(claims(), "", algorithm="none"),
        "hs256_other_audience": hs256(claims(aud="some-other-api")),
        "hs256_other_issuer": hs256(claims(iss="https://evil.example")),
        "hs256_no_exp": hs256(claims(exp=None)),
        "hs256_scope_read_write": hs256(claims(scope="read write")),
        "hs256_scope_read_admin": hs256(claims(scope="read admin")),
        "hs256_scp_list_admin": hs256(claims(scp=["admin", "read"])),
        "eddsa_valid": jwt.encode(claims(iss=None), ed25519_key(), algorithm="EdDSA"),
        "ed25519_public_pem": public_pem(),
        "hs256_signed_with_public_pem": forged_hs256(claims(iss=None), public_pem().encode()),
        # session cookies
        "session_alice": session_cookie({"user": "alice", "visits": 4}),
        "session_alice_old_key": session_cookie({"user": "alice", "visits": 4}, SESSION_OLD_KEY),
        "session_alice_foreign_key": session_cookie({"user": "alice", "visits": 4}, SESSION_FOREIGN_KEY),
        "session_alice_tampered": tampered_session_cookie(),
        "session_alice_expired": session_cookie({"user": "alice", "visits": 4}, issued=LONG_AGO),
        # CSRF tokens
        "csrf_token": sign(CSRF_SECRET, CSRF_RANDOM),
        "csrf_token_other_secret": sign(OTHER_SECRET, CSRF_RANDOM),
    }


def main(argv: list[str]) -> int:
    found = values()
    if not argv:
        print(json.dumps(found, indent=2))
        return 0
    for name in argv:
        if name not in found:
            print(f"unknown value {name!r}; known: {', '.join(found)}", file=sys.stderr)
            return 2
        print(found[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
