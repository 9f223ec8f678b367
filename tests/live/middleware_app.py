"""The app of the live middleware tests (``test_live_middleware.py``): CORS for a browser's
origin, compression, trusted hosts on one route, and a static directory named by
``FERROWEB_LIVE_STATIC`` (the test writes it before starting the server)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from ferroweb import App, Request
from ferroweb.middleware import CORS, Compression, SecurityHeaders, TrustedHosts
from ferroweb.sse import EventSourceResponse
from ferroweb.staticfiles import StaticFiles

ORIGIN = "https://app.example"
DOCUMENT = {"items": [{"id": i, "name": f"item {i}", "tags": ["a", "b"]} for i in range(200)]}

app = App(
    middleware=[
        CORS(
            allow_origins=[ORIGIN],
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Content-Type", "X-CSRF-Token"],
            allow_credentials=True,
            expose_headers=["X-Request-Count"],
        ),
        SecurityHeaders(),
        Compression(minimum_size=500),
    ]
)


@app.get("/plaintext")
def plaintext() -> str:
    return "Hello, World!"


@app.get("/document")
def document() -> dict[str, Any]:
    return DOCUMENT


@app.put("/profile")
async def profile(request: Request) -> dict[str, Any]:
    return {"session": request.cookies.get("session"), "body": await request.json()}


@app.get("/events")
async def events() -> EventSourceResponse:
    async def produce() -> AsyncIterator[dict[str, str]]:
        for i in range(5):
            yield {"data": f"event {i} " + "x" * 400}

    return EventSourceResponse(produce())


@app.get("/guarded", middleware=[TrustedHosts(["api.example", "*.api.example"])])
def guarded() -> str:
    return "guarded"


# The test process imports this module for its constants only; the server it starts has the
# variable set.
if "FERROWEB_LIVE_STATIC" in os.environ:
    app.mount("/static", StaticFiles(os.environ["FERROWEB_LIVE_STATIC"], html=True))
