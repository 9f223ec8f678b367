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
