"""timedelta parameters and body fields (ferroweb._durations): ISO 8601 durations, numbers of
seconds and clock time, as pydantic reads them, from every parameter source and JSON bodies."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import msgspec
import pytest

from ferroweb import App
from ferroweb._durations import parse_duration
from ferroweb.params import Cookie, Form, Header, Query
from ferroweb.testing import TestClient

td = datetime.timedelta
THIRTY_SECONDS = td(seconds=30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90", td(seconds=90)),
        ("1.5", td(seconds=1.5)),
        ("-3", td(seconds=-3)),
        ("P1DT2H", td(days=1, hours=2)),
        ("-PT1.5S", -td(seconds=1.5)),
        ("pt5m", td(minutes=5)),
        ("01:30", td(hours=1, minutes=30)),
        ("01:30:15.25", td(hours=1, minutes=30, seconds=15.25)),
        ("2 days, 01:00:00", td(days=2, hours=1)),
        ("-1d,00:00:30", -td(days=1, seconds=30)),
        (" 42 ", td(seconds=42)),
    ],
)
def test_accepted_forms(text: str, expected: datetime.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "x", "P", "PT", "1e400", "nan", "inf", "12:60", "1:2", "01:30:60", "P1Y2"]
)
def test_refused_forms(text: str) -> None:
    assert parse_duration(text) is None


class Job(msgspec.Struct):
    name: str
    every: datetime.timedelta
    grace: datetime.timedelta | None = None
    backoff: list[datetime.timedelta] = []


def make_app() -> App:
    app = App()

    @app.get("/wait/{delay}")
    def wait(
        delay: datetime.timedelta,
        timeout: datetime.timedelta = THIRTY_SECONDS,
        retry: Annotated[datetime.timedelta | None, Header(alias="x-retry-after")] = None,
        ttl: Annotated[datetime.timedelta | None, Cookie()] = None,
        steps: Annotated[list[datetime.timedelta], Query()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {
            "delay": delay.total_seconds(),
            "timeout": timeout.total_seconds(),
            "retry": retry and retry.total_seconds(),
            "ttl": ttl and ttl.total_seconds(),
            "steps": [step.total_seconds() for step in steps],
        }

    @app.post("/form")
    def form(every: Annotated[datetime.timedelta, Form()]) -> dict[str, float]:
        return {"every": every.total_seconds()}

    @app.post("/jobs")
    def create(job: Job) -> dict[str, Any]:
        return {
            "name": job.name,
            "every": job.every.total_seconds(),
            "grace": job.grace and job.grace.total_seconds(),
            "backoff": [step.total_seconds() for step in job.backoff],
        }

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def test_string_sources(client: TestClient) -> None:
    response = client.get(
        "/wait/PT1M",
        params=[("timeout", "2.5"), ("steps", "1"), ("steps", "PT2S"), ("steps", "00:00:03")],
        headers={"x-retry-after": "120", "cookie": "ttl=P1D"},
    )
    assert response.status_code == 200, response.text
    expected = {"delay": 60.0, "timeout": 2.5, "retry": 120.0, "ttl": 86400.0, "steps": [1, 2, 3]}
    assert response.json() == expected
    assert client.get("/wait/90").json()["timeout"] == 30.0


def test_invalid_strings_are_422_with_every_location(client: TestClient) -> None:
    response = client.get("/wait/soon", params={"timeout": "later", "steps": ["1", "x"]})
    assert response.status_code == 422
    errors = {tuple(error["loc"]): error["type"] for error in response.json()["errors"]}
    assert errors == {
        ("path", "delay"): "time_delta_parsing",
        ("query", "timeout"): "time_delta_parsing",
        ("query", "steps", 1): "time_delta_parsing",
    }


def test_form_field(client: TestClient) -> None:
    assert client.post("/form", data={"every": "PT15M"}).json() == {"every": 900.0}
    assert client.post("/form", data={"every": "never"}).status_code == 422


def test_json_body_takes_iso_strings_and_numbers_of_seconds(client: TestClient) -> None:
    iso = client.post("/jobs", json={"name": "a", "every": "PT1H", "backoff": ["PT1S", "PT2S"]})
    assert iso.json() == {"name": "a", "every": 3600.0, "grace": None, "backoff": [1.0, 2.0]}
    numbers = client.post("/jobs", json={"name": "b", "every": 90, "grace": 1.5, "backoff": [1, "PT2S"]})
    assert numbers.status_code == 200, numbers.text
    assert numbers.json() == {"name": "b", "every": 90.0, "grace": 1.5, "backoff": [1.0, 2.0]}


def test_json_body_errors_stay_strict_elsewhere(client: TestClient) -> None:
    # a number for the duration is fine; the string for `name` is still checked strictly
    response = client.post("/jobs", json={"name": 5, "every": 60})
    assert response.status_code == 422
    assert [(e["loc"], e["type"]) for e in response.json()["errors"]] == [(["body", "name"], "string_type")]

    response = client.post("/jobs", json={"name": "c", "every": "hourly", "grace": True, "backoff": [1e300]})
    assert response.status_code == 422
    found = {tuple(e["loc"]): e["type"] for e in response.json()["errors"]}
    assert found == {
        ("body", "every"): "time_delta_parsing",
        ("body", "grace"): "time_delta_type",
        ("body", "backoff", 0): "time_delta_parsing",  # beyond timedelta's range
    }
