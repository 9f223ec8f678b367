"""ferroweb's side of the authentication and rate-limit benchmark (benchmarks/security.py); the
protected route has the same semantics as benchmarks/peers/litestar_security_app.py and
benchmarks/peers/fastapi_security_app.py. The token check and the counting run in the Rust core.

- ``GET /json``: protected by ``JWTAuth(secret=SECRET, algorithms=["HS256"])``; answers
  ``{"message": "Hello, World!", "sub": <the token's sub>}`` from ``request.auth`` (401 without
  a valid token, before the handler).
- ``GET /json-plain``: the same handler shape with no auth and no middleware (the baseline),
  ``{"message": "Hello, World!"}``.
- ``GET /json-limited``: the baseline under ``RateLimit("1000000/second")``, counted in the
  process's memory (a limit no benchmark reaches: what is measured is the cost of counting).
- ``GET /json-limited-redis``: the same limit counted in Redis (one Lua script per request),
  at the URL in ``$FERROWEB_BENCH_REDIS`` (made by the benchmark; no route when it is unset);
  ``fail_open=False``, so a Redis that does not answer shows as 503s instead of passing
  requests through uncounted.
"""

from __future__ import annotations

import os
from typing import Any

from ferroweb import App, Request
from ferroweb.middleware import RateLimit
from ferroweb.security import JWTAuth

#: The HMAC secret of every framework's app (the peers repeat it).
SECRET = "ferroweb-benchmark-hs256-secret-0123456789abcdef"
#: The ``sub`` of the benchmark's token.
SUBJECT = "bench-user"
REDIS_ENV = "FERROWEB_BENCH_REDIS"
#: The Redis limit's name: its counters are ``ferroweb:ratelimit:<REDIS_LIMIT_NAME>:<client>``.
REDIS_LIMIT_NAME = "bench-redis"
LIMIT = "1000000/second"

app = App()
jwt = JWTAuth(secret=SECRET, algorithms=["HS256"])


@app.get("/json", auth=jwt)
def json_protected(request: Request) -> dict[str, Any]:
    return {"message": "Hello, World!", "sub": (request.auth or {}).get("sub")}


@app.get("/json-plain")
def json_plain() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/json-limited", middleware=[RateLimit(LIMIT)])
def json_limited() -> dict[str, str]:
    return {"message": "Hello, World!"}


if os.environ.get(REDIS_ENV):
    redis_limit = RateLimit(LIMIT, store=os.environ[REDIS_ENV], fail_open=False, name=REDIS_LIMIT_NAME)

    @app.get("/json-limited-redis", middleware=[redis_limit])
    def json_limited_redis() -> dict[str, str]:
        return {"message": "Hello, World!"}
