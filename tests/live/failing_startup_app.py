"""An app whose start-up hook fails: the server must not start (``ferroweb run`` exits non-zero)."""

from __future__ import annotations

from ferroweb import App

app = App()


@app.on_startup
async def connect() -> None:
    raise ConnectionError("database unreachable")


@app.get("/plaintext")
def plaintext() -> str:
    return "never served"
