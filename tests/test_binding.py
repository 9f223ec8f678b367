"""The typed seam of ``ferroweb._ferroweb``: codes are classes of their own, routes and
parameter plans are checked when they are made, the core's rules are reachable from Python."""

from __future__ import annotations

import pytest

from ferroweb import _ferroweb
from ferroweb._ferroweb import (
    ContentKind,
    JobOutcome,
    MessageKind,
    ParamSpec,
    RouteSpec,
    SubmitOutcome,
    WriteOutcome,
)


@pytest.mark.parametrize(
    ("code", "members"),
    [
        (ContentKind, ["JSON", "TEXT", "HTML", "OCTET_STREAM", "PROBLEM_JSON", "UNSPECIFIED"]),
        (WriteOutcome, ["WRITTEN", "FULL", "CLOSED"]),
        (MessageKind, ["TEXT", "BINARY", "CLOSED"]),
        (SubmitOutcome, ["QUEUED", "QUEUE_FULL", "SHUTTING_DOWN"]),
        (JobOutcome, ["COMPLETED", "FAILED", "CANCELLED"]),
    ],
)
def test_codes_are_distinct_members_of_their_own_class(code: type, members: list[str]) -> None:
    values = [getattr(code, name) for name in members]
    assert all(type(value) is code for value in values)
    assert len({int(value) for value in values}) == len(members)
    assert values[0] == getattr(code, members[0]) and values[0] != values[1]
    assert values[0] != ContentKind.JSON or code is ContentKind  # never equal across classes


def test_a_wrong_code_is_refused_where_it_crosses() -> None:
    supervisor = _ferroweb.BackgroundSupervisor(1, 1)
    with pytest.raises(TypeError):
        supervisor.finished(0)  # type: ignore[arg-type]
    assert supervisor.submit(object()) == SubmitOutcome.QUEUED
    assert supervisor.submit(object()) == SubmitOutcome.QUEUE_FULL
    supervisor.stop_accepting()
    assert supervisor.submit(object()) == SubmitOutcome.SHUTTING_DOWN


def test_a_param_spec_converts_to_the_cores_at_once() -> None:
    spec = ParamSpec("path", "item_id", "int", path_index=2, ge=1, le=10)
    assert (spec.source, spec.key, spec.scalar, spec.path_index, spec.many) == (
        "path",
        "item_id",
        "int",
        2,
        False,
    )
    listed = ParamSpec("query", "tag", "str", many=True, max_length=5)
    assert (listed.source, listed.many, listed.path_index) == ("query", True, 0)
    with pytest.raises(ValueError, match='unknown parameter source "body"'):
        ParamSpec("body", "x", "str")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='unknown parameter type "date"'):
        ParamSpec("query", "x", "date")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_length must be >= 0"):
        ParamSpec("query", "x", "str", min_length=-1)


def test_a_route_spec_checks_its_methods_and_keeps_its_plan() -> None:
    params = [ParamSpec("query", "q", "str")]
    route = RouteSpec(3, "/items/{id}", ["get", "POST"], params)
    assert (route.id, route.path, route.methods, route.websocket) == (
        3,
        "/items/{id}",
        ["GET", "POST"],
        False,
    )
    assert route.params is not None and [p.key for p in route.params] == ["q"]
    assert RouteSpec(0, "/ws", ["GET"], websocket=True).websocket
    with pytest.raises(ValueError, match="invalid HTTP method"):
        RouteSpec(0, "/", ["GE T"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        (" -7 ", -7),
        ("+3", 3),
        ("1" * 30, int("1" * 30)),
        ("4.0", None),
        ("", None),
        ("1_000", None),
    ],
)
def test_parse_int_is_the_cores_rule(text: str, expected: int | None) -> None:
    assert _ferroweb.parse_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("inf", "finite_number"),
        ("-NaN", "finite_number"),
        ("1e400", "finite_number"),
        ("abc", "float_parsing"),
        ("1.", 1.0),
    ],
)
def test_parse_float_is_the_cores_rule(text: str, expected: object) -> None:
    assert _ferroweb.parse_float(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("ON", True), (" y ", True), ("0", False), ("off", False), ("maybe", None), ("", None)],
)
def test_parse_bool_is_the_cores_rule(text: str, expected: bool | None) -> None:
    assert _ferroweb.parse_bool(text) is expected


def test_check_server_config_names_the_bad_field() -> None:
    class Config:
        host = "127.0.0.1"
        port = 8000
        runtime_threads = 1
        backlog = 0
        keep_alive_timeout = 5.0
        header_read_timeout = 30.0
        max_header_size = 16384
        max_body_size = None
        shutdown_timeout = 30.0
        workers = 1
        websocket_max_message_size = 1024
        websocket_idle_timeout = None
        websocket_ping_interval = None
        websocket_send_queue = 8

    with pytest.raises(ValueError, match=r"invalid ServerConfig\.backlog: must be at least 1"):
        _ferroweb.check_server_config(Config())
    Config.backlog = 1
    _ferroweb.check_server_config(Config())
    Config.max_body_size = "big"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="max_body_size must be a size in bytes >= 0, or None, got 'big'"):
        _ferroweb.check_server_config(Config())
