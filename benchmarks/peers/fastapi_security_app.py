"""FastAPI peer for the authentication benchmark (benchmarks/security.py); same semantics as
benchmarks/apps/ferroweb_security_app.py's ``/json`` and ``/json-plain``.

The JWT check is a dependency, as FastAPI's security tutorial writes it: FastAPI's
``HTTPBearer`` reads ``Authorization: Bearer <token>``, then PyJWT's
``jwt.decode(token, SECRET, algorithms=["HS256"])``; a missing, malformed, badly signed or
expired token is a 401 with ``WWW-Authenticate: Bearer``.

- ``GET /json``: protected; answers ``{"message": "Hello, World!", "sub": <the token's sub>}``
  from the decoded claims.
- ``GET /json-plain``: no dependency, the baseline.

Run: uvicorn fastapi_security_app:app --port PORT (see servers-security.json).
"""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SECRET = "ferroweb-benchmark-hs256-secret-0123456789abcdef"

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
bearer = HTTPBearer(auto_error=False)


def _unauthorized() -> HTTPException:
    return HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})


async def current_claims(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    if credentials is None:
        raise _unauthorized()
    try:
        claims: dict[str, Any] = jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise _unauthorized() from None
    return claims


@app.get("/json")
async def json_protected(claims: Annotated[dict[str, Any], Depends(current_claims)]) -> dict[str, str]:
    return {"message": "Hello, World!", "sub": claims["sub"]}


@app.get("/json-plain")
async def json_plain() -> dict[str, str]:
    return {"message": "Hello, World!"}
