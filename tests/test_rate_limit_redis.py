"""RateLimit(store="redis://...") against a real redis-server: one limit shared by several
apps (as by worker processes), and what happens when Redis goes away and comes back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ferroweb import App
from ferroweb.middleware import RateLimit
from ferroweb.testing import TestClient
from tests.redis_server import RedisServer


def limited_app(store: str, *, fail_open: bool = True, rate: str = "5/minute") -> App:
    app = App()
    limit = RateLimit(rate, store=store, fail_open=fail_open, timeout=0.5, name="shared-test")

    @app.get("/x", middleware=[limit])
    def x() -> dict[str, bool]:
        return {"ok": True}

    return app


@pytest.fixture
def two_workers(redis_server: RedisServer) -> Iterator[tuple[TestClient, TestClient]]:
    with TestClient(limited_app(redis_server.url)) as one, TestClient(limited_app(redis_server.url)) as two:
        yield one, two


def test_apps_sharing_a_store_share_one_limit(
    two_workers: tuple[TestClient, TestClient], redis_server: RedisServer
) -> None:
    one, two = two_workers
    statuses = [(one if index % 2 else two).get("/x").status_code for index in range(8)]
    assert statuses.count(200) == 5
    assert statuses[5:] == [429, 429, 429]
    refused = one.get("/x")
    assert refused.headers["ratelimit-limit"] == "5"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) >= 1
    keys = [key.decode() for key in redis_server.client().keys("ferroweb:ratelimit:*")]
    assert keys == ["ferroweb:ratelimit:shared-test:ip:testclient"]


def test_remaining_counts_down_across_workers(two_workers: tuple[TestClient, TestClient]) -> None:
    one, two = two_workers
    assert one.get("/x").headers["ratelimit-remaining"] == "4"
    assert two.get("/x").headers["ratelimit-remaining"] == "3"
    assert one.get("/x").headers["ratelimit-remaining"] == "2"


def test_fail_open_lets_requests_through_while_redis_is_down(redis_server: RedisServer) -> None:
    with TestClient(limited_app(redis_server.url, rate="1/hour")) as client:
        assert client.get("/x").status_code == 200
        assert client.get("/x").status_code == 429
        redis_server.stop()
        for _ in range(3):
            response = client.get("/x")
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers
        # Redis back (empty: it keeps nothing on disk): counting resumes after the pause
        redis_server.start()
        time.sleep(1.2)
        assert client.get("/x").headers["ratelimit-remaining"] == "0"
        assert client.get("/x").status_code == 429


def test_fail_closed_answers_503_while_redis_is_down(redis_server: RedisServer) -> None:
    with TestClient(limited_app(redis_server.url, fail_open=False)) as client:
        assert client.get("/x").status_code == 200
        redis_server.stop()
        response = client.get("/x")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["detail"] == "the rate limit store is unavailable"


def test_an_unreachable_store_never_hangs_the_request() -> None:
    # nothing listens on port 9: connection refused, answered within the store timeout
    with TestClient(limited_app("redis://127.0.0.1:9/0", fail_open=False)) as client:
        assert client.get("/x").status_code == 503
        assert client.get("/x").status_code == 503


def test_store_urls_are_checked_and_passwords_stay_out_of_reprs() -> None:
    with pytest.raises(ValueError, match="redis:// URL"):
        RateLimit("1/second", store="http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="timeout"):
        RateLimit("1/second", store="redis://127.0.0.1:6379", timeout=0)
    limit = RateLimit("1/second", store="redis://:hunter2@127.0.0.1:6379/0")
    assert "hunter2" not in repr(limit)
