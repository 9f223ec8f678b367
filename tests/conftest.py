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
def open_client():  # type: ignore[no-untyped-def]
    """Makes test clients (``open_client(app)``) that are closed when the test ends."""
    made: list[TestClient] = []

    def make(app: App) -> TestClient:
        made.append(TestClient(app))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def redis_server(tmp_path):  # type: ignore[no-untyped-def]
    """A redis-server of this test's own, stopped when the test ends."""
    from tests.redis_server import running_redis

    with running_redis(tmp_path) as server:
        yield server
