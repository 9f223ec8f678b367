"""The app tests/live/test_live_security.py serves: Redis-backed rate limits and sessions,
and a JWT-protected route. The Redis URL comes from ``FERROWEB_LIVE_REDIS``."""

from __future__ import annotations

import os
from typing import Any

from ferroweb import App, Request
from ferroweb.middleware import RateLimit
from ferroweb.security import JWTAuth, Sessions

REDIS = os.environ.get("FERROWEB_LIVE_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "the-live-security-app-secret-0123456789"
#: The shared limit of /limited: this many requests per minute, whatever the worker.
LIMIT = 20

app = App()
shared = RateLimit(f"{LIMIT}/minute", store=REDIS, name="live-shared", timeout=0.5)
closed = RateLimit("1000/minute", store=REDIS, name="live-closed", fail_open=False, timeout=0.5)
sessions = Sessions([SECRET], store=REDIS)


@app.get("/plaintext")
def plaintext() -> str:
    return "ok"


@app.get("/limited", middleware=[shared])
def limited() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.get("/closed", middleware=[closed])
def closed_route() -> dict[str, int]:
    return {"pid": os.getpid()}


@app.post("/session", middleware=[sessions])
def remember(request: Request, value: str) -> dict[str, Any]:
    request.session["value"] = value
    return {"pid": os.getpid()}


@app.get("/session", middleware=[sessions])
def recall(request: Request) -> dict[str, Any]:
    return {"value": request.session.get("value"), "pid": os.getpid()}


@app.get("/me", auth=JWTAuth(secret=SECRET, algorithms=["HS256"]))
def me(request: Request) -> dict[str, Any]:
    return {"sub": (request.auth or {}).get("sub")}
