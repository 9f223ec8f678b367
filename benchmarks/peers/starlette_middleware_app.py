"""Starlette peer for the middleware benchmark (benchmarks/middleware.py), served by uvicorn and
granian; same semantics as benchmarks/apps/ferroweb_middleware_app.py.

One ASGI app per workload, so that each is measured with only its own middleware in the way
(Starlette's middleware wraps the whole app; a route's own ``middleware=`` is not reached by a
preflight, which the route answers 405 first):

- ``gzip_app``: ``GET /json-10k``, the same pre-encoded ~10 KB JSON document as ferroweb's, under
  ``GZipMiddleware(minimum_size=500)`` with Starlette's default level (9), as ferroweb's
  ``Compression()`` runs with its own default.
- ``gzip_l6_app``: ``GET /json-10k-l6``, the same document under
  ``GZipMiddleware(minimum_size=500, compresslevel=6)``, against ferroweb's
  ``Compression(level=6)``: both at the same level.
- ``static_app``: ``StaticFiles`` mounted at ``/static`` over ``$FERROWEB_BENCH_STATIC_DIR``
  (made by the benchmark; no mount when it is unset).
- ``cors_app``: ``GET /json`` under ``CORSMiddleware`` allowing ``GET`` and ``X-Token`` from
  ``https://app.example``.
"""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

ORIGIN = "https://app.example"
STATIC_DIR_ENV = "FERROWEB_BENCH_STATIC_DIR"


def document_10k() -> bytes:
    """The ~10 KB JSON document of ``/json-10k``: byte for byte ferroweb's (the benchmark checks)."""
    items = [
        {
            "id": n,
            "name": f"item-{n:03d}",
            "price": round(1.25 + n * 0.37, 2),
            "in_stock": n % 3 != 0,
            "tags": [*["tools", "hardware"][: 1 + n % 2], f"batch-{n % 7}"],
            "description": f"Item number {n}, a widget of size {n % 5} used to benchmark compression.",
        }
        for n in range(60)
    ]
    return json.dumps({"count": len(items), "items": items}, separators=(",", ":")).encode()


DOCUMENT_10K = document_10k()


async def json_10k(request: Request) -> Response:
    return Response(DOCUMENT_10K, media_type="application/json")


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


gzip_app = Starlette(
    routes=[Route("/json-10k", json_10k, methods=["GET"])],
    middleware=[Middleware(GZipMiddleware, minimum_size=500)],
)

gzip_l6_app = Starlette(
    routes=[Route("/json-10k-l6", json_10k, methods=["GET"])],
    middleware=[Middleware(GZipMiddleware, minimum_size=500, compresslevel=6)],
)

_static_dir = os.environ.get(STATIC_DIR_ENV)
static_app = Starlette(routes=[Mount("/static", StaticFiles(directory=_static_dir))] if _static_dir else [])

cors_app = Starlette(
    routes=[Route("/json", hello, methods=["GET"])],
    middleware=[
        Middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["GET"], allow_headers=["X-Token"])
    ],
)
