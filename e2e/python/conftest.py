"""Pools the generated tests share within a module: one TestClient and one live server per app,
each with a directory for the files the ``file`` fixtures serve."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from e2e.python.fixture_client import LiveServerPool, TestClientPool


@pytest.fixture(scope="module")
def testclients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClientPool]:
    pool = TestClientPool(files_root=tmp_path_factory.mktemp("e2e-files"))
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def live_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServerPool]:
    pool = LiveServerPool(
        tmp_path_factory.mktemp("e2e-live"), files_root=tmp_path_factory.mktemp("e2e-files")
    )
    yield pool
    problems = pool.close()
    if problems:
        pytest.fail("live servers did not stop cleanly:\n" + "\n".join(problems), pytrace=False)
