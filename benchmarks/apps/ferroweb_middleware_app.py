"""ferroweb's side of the middleware benchmark (benchmarks/middleware.py); same semantics as
benchmarks/peers/starlette_middleware_app.py. Every middleware here runs in the Rust core.

``app``:

- ``GET /json``: ``{"message": "Hello, World!"}`` (below ``Compression``'s ``minimum_size``)
  through ``CORS``, ``SecurityHeaders`` and ``Compression`` declared on the route;
  ``GET /json-plain`` is the same handler with no middleware (the ``mw-json`` baseline).
- ``GET /json-10k``: a ~10 KB JSON document, pre-encoded once (the same bytes as the peer's,
  so the figure is the middleware's, not the JSON encoder's), through ``Compression()``;
  ``GET /json-10k-l6`` the same through ``Compression(level=6)``.
- ``/static``: ``StaticFiles`` over the directory in ``$FERROWEB_BENCH_STATIC_DIR`` (made by the
  benchmark; not mounted when the variable is unset).

``cors_app``: ``GET /json`` under app-level ``CORS`` that allows ``GET`` and ``X-Token`` from
``https://app.example``, for the ``preflight`` workload (a separate app, so that ``app``'s
``/json-plain`` stays without middleware).
"""

from __future__ import annotations

import json
import os

from ferroweb import App, Response
from ferroweb.middleware import CORS, Compression, SecurityHeaders
from ferroweb.staticfiles import StaticFiles

ORIGIN = "https://app.example"
STATIC_DIR_ENV = "FERROWEB_BENCH_STATIC_DIR"


def document_10k() -> bytes:
    """The ~10 KB JSON document of ``/json-10k`` (deterministic; the peer builds the same)."""
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

app = App()


@app.get("/json", middleware=[CORS(allow_origins=[ORIGIN]), SecurityHeaders(), Compression()])
def json_with_middleware() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/json-plain")
def json_plain() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/json-10k", middleware=[Compression()])
def json_10k() -> Response:
    return Response(DOCUMENT_10K, media_type="application/json")


@app.get("/json-10k-l6", middleware=[Compression(level=6)])
def json_10k_level_6() -> Response:
    return Response(DOCUMENT_10K, media_type="application/json")


if os.environ.get(STATIC_DIR_ENV):
    app.mount("/static", StaticFiles(os.environ[STATIC_DIR_ENV]))


cors_app = App(middleware=[CORS(allow_origins=[ORIGIN], allow_methods=["GET"], allow_headers=["X-Token"])])


@cors_app.get("/json")
def json_cors() -> dict[str, str]:
    return {"message": "Hello, World!"}
