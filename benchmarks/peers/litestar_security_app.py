"""Litestar peer for the authentication benchmark (benchmarks/security.py); same semantics as
benchmarks/apps/ferroweb_security_app.py's ``/json`` and ``/json-plain``.

Litestar's own JWT authentication, the documented way (``litestar.security.jwt.JWTAuth`` with a
``retrieve_user_handler``, registered through ``on_app_init``; PyJWT underneath, from the
``litestar[jwt]`` extra), HS256 with the same secret as ferroweb's app:

- ``GET /json``: protected; answers ``{"message": "Hello, World!", "sub": <the token's sub>}``
  from ``request.auth`` (401 without a valid token, from the authentication middleware).
- ``GET /json-plain``: excluded from authentication (``exclude_from_auth``), the baseline.

Run: uvicorn litestar_security_app:app --port PORT (see servers-security.json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, get
from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

SECRET = "ferroweb-benchmark-hs256-secret-0123456789abcdef"


@dataclass
class User:
    id: str


async def retrieve_user_handler(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    return User(id=token.sub)


jwt_auth = JWTAuth[User](retrieve_user_handler=retrieve_user_handler, token_secret=SECRET, algorithm="HS256")


@get("/json")
async def json_protected(request: Request[User, Token, Any]) -> dict[str, str]:
    return {"message": "Hello, World!", "sub": request.auth.sub}


@get("/json-plain", exclude_from_auth=True)
async def json_plain() -> dict[str, str]:
    return {"message": "Hello, World!"}


app = Litestar(
    route_handlers=[json_protected, json_plain],
    on_app_init=[jwt_auth.on_app_init],
    openapi_config=None,
    logging_config=None,
)
