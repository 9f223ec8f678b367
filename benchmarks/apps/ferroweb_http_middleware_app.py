"""/json (and /plaintext, the readiness probe) under one ``@app.middleware("http")`` that
calls ``call_next`` and sets a header: what Starlette-style Python middleware costs here
(workload ``http-middleware``, served by the ``ferroweb+http-middleware`` server)."""

from __future__ import annotations

from typing import Any

from ferroweb import App, Request, Response

app = App()


@app.middleware("http")
async def add_header(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    response.headers["x-middleware"] = "1"
    return response


@app.get("/plaintext")
def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
def json() -> dict[str, str]:
    return {"message": "Hello, World!"}
