from __future__ import annotations

import pytest

from ferroweb import App
from ferroweb.testing import TestClient


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def client(app: App):  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        yield client


@pytest.fixture
def redis_server(tmp_path):  # type: ignore[no-untyped-def]
    """A redis-server of this test's own, stopped when the test ends."""
    from tests.redis_server import running_redis

    with running_redis(tmp_path) as server:
        yield server
