"""ferroweb.security.Sessions through the test client: cookie and Redis stores, rotation,
ending a session, limits, and what a declaration refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ferroweb import App, Request
from ferroweb.security import Sessions
from ferroweb.testing import TestClient
from tests.redis_server import RedisServer

KEY = "the-current-session-key-0123456789"
OLD_KEY = "the-previous-session-key-0123456789"


def session_app(sessions: Sessions) -> App:
    app = App(middleware=[sessions])

    @app.post("/login")
    def login(request: Request, user: str) -> dict[str, Any]:
        request.session["user"] = user
        request.session["visits"] = 0
        return dict(request.session)

    @app.get("/me")
    def me(request: Request) -> dict[str, Any]:
        if "user" in request.session:
            request.session["visits"] = request.session["visits"] + 1
        return dict(request.session)

    @app.get("/peek")
    def peek(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.post("/logout")
    def logout(request: Request) -> dict[str, bool]:
        request.session.clear()
        return {"bye": True}

    @app.post("/big")
    def big(request: Request) -> dict[str, bool]:
        try:
            request.session["blob"] = "x" * 5000
        except ValueError:
            return {"refused": True}
        return {"refused": False}

    @app.post("/not-json")
    def not_json(request: Request) -> dict[str, bool]:
        try:
            request.session["when"] = object()
        except TypeError:
            return {"refused": "when" not in request.session}
        return {"refused": False}

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(session_app(Sessions([KEY]))) as client:
        yield client


def test_a_session_lasts_across_requests(client: TestClient) -> None:
    assert client.get("/me").json() == {}
    login = client.post("/login?user=alice")
    set_cookie = login.headers["set-cookie"]
    assert set_cookie.startswith("session=")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert f"Max-Age={14 * 24 * 3600}" in set_cookie
    assert client.get("/me").json() == {"user": "alice", "visits": 1}
    assert client.get("/me").json() == {"user": "alice", "visits": 2}


def test_reading_alone_sets_no_cookie(client: TestClient) -> None:
    client.post("/login?user=alice")
    assert "set-cookie" not in client.get("/peek").headers


def test_logout_removes_the_cookie(client: TestClient) -> None:
    client.post("/login?user=alice")
    response = client.post("/logout")
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert client.get("/peek").json() == {}


def test_a_tampered_or_foreign_cookie_is_an_empty_session(client: TestClient) -> None:
    client.post("/login?user=alice")
    value = client.cookies["session"]
    client.cookies.clear()
    client.cookies.set("session", "x" + value[1:])
    assert client.get("/peek").json() == {}
    with TestClient(session_app(Sessions(["some-other-key-0123456789"]))) as other:
        other.cookies.set("session", value)
        assert other.get("/peek").json() == {}


def test_older_keys_verify_after_rotation() -> None:
    with TestClient(session_app(Sessions([OLD_KEY]))) as old:
        old.post("/login?user=bob")
        value = old.cookies["session"]
    with TestClient(session_app(Sessions([KEY, OLD_KEY]))) as rotated:
        rotated.cookies.set("session", value)
        assert rotated.get("/peek").json() == {"user": "bob", "visits": 0}
        # written again: now signed with the current key, which the old app does not know
        renewed = rotated.get("/me").headers["set-cookie"].split(";")[0].split("=", 1)[1]
    with TestClient(session_app(Sessions([OLD_KEY]))) as old:
        old.cookies.set("session", renewed)
        assert old.get("/peek").json() == {}


def test_data_too_large_for_a_cookie_or_not_json_is_refused(client: TestClient) -> None:
    assert client.post("/big").json() == {"refused": True}
    assert client.post("/not-json").json() == {"refused": True}


def test_the_session_needs_the_middleware() -> None:
    app = App()

    @app.get("/")
    def home(request: Request) -> dict[str, Any]:
        return dict(request.session)

    with TestClient(app) as client:
        assert client.get("/").status_code == 500


def test_redis_sessions_keep_data_server_side(redis_server: RedisServer) -> None:
    sessions = Sessions([KEY], store=redis_server.url)
    with TestClient(session_app(sessions)) as client:
        client.post("/login?user=carol")
        cookie = client.cookies["session"]
        assert "carol" not in cookie
        assert client.get("/me").json() == {"user": "carol", "visits": 1}
        keys = redis_server.client().keys("ferroweb:session:*")
        assert len(keys) == 1
        assert 0 < redis_server.client().ttl(keys[0]) <= 14 * 24 * 3600
        # a large session is fine server-side
        assert client.post("/big").json() == {"refused": False}
    # another app (another worker, or this one restarted) finds the same session
    with TestClient(session_app(Sessions([KEY], store=redis_server.url))) as restarted:
        restarted.cookies.set("session", cookie)
        assert restarted.get("/peek").json()["user"] == "carol"
        restarted.post("/logout")
        assert redis_server.client().keys("ferroweb:session:*") == []


def test_redis_down_is_a_503_not_a_lost_session(redis_server: RedisServer) -> None:
    with TestClient(session_app(Sessions([KEY], store=redis_server.url))) as client:
        client.post("/login?user=dave")
        redis_server.stop()
        response = client.get("/me")
        assert response.status_code == 503
        assert response.json()["detail"] == "the session store is unavailable"


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Sessions(["short"])
    with pytest.raises(TypeError, match="list"):
        Sessions(KEY)
    with pytest.raises(ValueError, match="store must be"):
        Sessions([KEY], store="memcached://x")
    with pytest.raises(ValueError, match="same_site"):
        Sessions([KEY], same_site="sideways")
    with pytest.raises(ValueError, match="max_age"):
        Sessions([KEY], max_age=0)
    assert KEY not in repr(Sessions([KEY]))
