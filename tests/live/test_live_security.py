"""Rate limits and sessions kept in a real redis-server, served by real ``ferroweb run``
processes: two workers share one limit, Redis going away mid-run gives the configured answer
while the server keeps serving, and sessions outlive the process that wrote them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import jwt
import pytest

from tests.live.security_app import LIMIT, SECRET
from tests.redis_server import RedisServer

if TYPE_CHECKING:
    from .conftest import LiveServer

pytestmark = pytest.mark.live

TARGET = "tests.live.security_app:app"


@pytest.fixture
def serve(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, start_server: Callable[..., LiveServer]
) -> Callable[..., LiveServer]:
    monkeypatch.setenv("FERROWEB_LIVE_REDIS", redis_server.url)

    def start(*args: str) -> LiveServer:
        return start_server(*args, target=TARGET)

    return start


def fresh_get(server: LiveServer, path: str) -> httpx.Response:
    """A request on a new connection, so that requests spread over the workers."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        return client.get(path)


def test_two_workers_share_one_redis_limit(serve: Callable[..., LiveServer]) -> None:
    server = serve("--workers", "2")
    started = time.monotonic()
    answers = [fresh_get(server, "/limited") for _ in range(LIMIT + 15)]
    elapsed = time.monotonic() - started
    passed = [answer for answer in answers if answer.status_code == 200]
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(passed) + len(refused) == len(answers)
    # one more request is let through per 60/LIMIT seconds the run took
    refills = int(elapsed / (60 / LIMIT))
    assert LIMIT <= len(passed) <= LIMIT + refills + 1, (len(passed), elapsed)
    pids = {answer.json()["pid"] for answer in passed}
    assert len(pids) == 2, "the requests did not reach both workers"
    assert all(answer.headers["ratelimit-limit"] == str(LIMIT) for answer in answers)


def test_redis_stopping_mid_run_gives_the_configured_answer(
    serve: Callable[..., LiveServer], redis_server: RedisServer
) -> None:
    server = serve()
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert client.get("/limited").status_code == 200
        assert client.get("/closed").status_code == 200
        redis_server.stop()
        started = time.monotonic()
        open_answer = client.get("/limited")
        closed_answer = client.get("/closed")
        assert time.monotonic() - started < 5, "a request waited on the unreachable store"
        assert open_answer.status_code == 200
        assert "ratelimit-limit" not in open_answer.headers
        assert closed_answer.status_code == 503
        assert closed_answer.headers["retry-after"] == "1"
        assert client.get("/plaintext").text == '"ok"' or client.get("/plaintext").status_code == 200
        redis_server.start()
        time.sleep(1.2)
        assert client.get("/closed").status_code == 200
    assert "redis store unavailable" in server.log()


def test_sessions_outlive_the_worker_that_wrote_them(serve: Callable[..., LiveServer]) -> None:
    first = serve()
    with httpx.Client(base_url=first.base_url, timeout=10) as client:
        assert client.post("/session", params={"value": "kept"}).status_code == 200
        cookie = client.cookies["session"]
    assert first.terminate() == 0
    second = serve()
    with httpx.Client(base_url=second.base_url, timeout=10, cookies={"session": cookie}) as client:
        assert client.get("/session").json()["value"] == "kept"


def test_jwt_auth_on_a_live_server(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {"sub": "alice"}
        refused = client.get("/me", headers={"Authorization": f"Bearer {token[:-2]}xx"})
        assert refused.status_code == 401
        assert token not in refused.text
        assert token[:20] not in server.log()
