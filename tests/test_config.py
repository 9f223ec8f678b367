from __future__ import annotations

import pytest

from ferroweb import App, ServerConfig
from ferroweb.testing import TestClient


def test_defaults_have_limits_and_timeouts_on() -> None:
    config = ServerConfig()
    assert config.max_body_size == 10 * 1024 * 1024
    assert config.keep_alive_timeout and config.header_read_timeout and config.shutdown_timeout
    assert config.workers == 1


def test_replace_ignores_none_overrides() -> None:
    config = ServerConfig(port=9000).replace(host=None, port=9100, workers=None)
    assert (config.host, config.port, config.workers) == ("127.0.0.1", 9100, 1)


@pytest.mark.parametrize(
    "changes",
    [
        {"port": 70000},
        {"workers": 0},
        {"runtime_threads": 0},
        {"max_body_size": -1},
        {"loop": "trio"},
        {"blocking_threads": 0},
    ],
)
def test_invalid_values_are_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ServerConfig(**changes)  # type: ignore[arg-type]


def test_the_cores_rules_refuse_a_config_when_it_is_made() -> None:
    with pytest.raises(ValueError, match="max_header_size: must be at least 1024 bytes"):
        ServerConfig(max_header_size=100)
    with pytest.raises(ValueError, match="keep_alive_timeout must be a non-negative number of seconds"):
        ServerConfig(keep_alive_timeout=-1)
    with pytest.raises(ValueError, match="websocket_ping_interval: must be positive"):
        ServerConfig(websocket_ping_interval=0)
    with pytest.raises(ValueError, match=r"port must be an integer in 0\.\.65535, got 70000"):
        ServerConfig(port=70000)
    with pytest.raises(ValueError, match="host must be a host name or address"):
        ServerConfig(host=None)  # type: ignore[arg-type]


def test_a_config_changed_with_replace_is_checked_again() -> None:
    with pytest.raises(ValueError, match="runtime_threads"):
        ServerConfig().replace(runtime_threads=0)


def test_app_rejects_other_config_types() -> None:
    with pytest.raises(TypeError):
        App(config={"port": 1})  # type: ignore[arg-type]


def test_body_limit_is_enforced_before_the_handler_runs() -> None:
    app = App(config=ServerConfig(max_body_size=16))
    calls: list[bytes] = []

    @app.post("/upload")
    async def upload(request) -> str:  # type: ignore[no-untyped-def]
        calls.append(await request.body())
        return "stored"

    with TestClient(app) as client:
        assert client.post("/upload", content=b"x" * 16).text == "stored"
        response = client.post("/upload", content=b"x" * 17)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "request body exceeds the limit of 16 bytes"
    assert calls == [b"x" * 16]
