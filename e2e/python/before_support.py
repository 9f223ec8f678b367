"""A fixture's earlier requests (``request.before``) and the cookies their answers set.

Some behaviour only shows on a later request: a rate limit refusing once the burst is spent, a
session carried by the cookie an earlier answer set, a CSRF token a safe request handed out and
an unsafe one sends back. So a fixture may list ``request.before``: requests sent first, in
order, by the same client into the same app, whose answers are not compared (but for their
``status``, when given). The client keeps the cookies they set and sends them with the later
requests, as a browser and an httpx client do (a request that gives its own ``cookies`` sends
those instead). Header values of any of the requests may hold ``<<cookie:NAME>>``: the value
of the cookie NAME the client holds at that moment (what a page script reading
``document.cookie`` sends back, e.g. a CSRF token in its header).

``fixture_client`` builds each request as it builds the fixture's own (``build_request``) and
hands these functions the way it sends one (TestClient or the live server's httpx client) and
that client's cookie jar.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import httpx

COOKIE = re.compile(r"<<cookie:([^<>]+)>>")


def has_cookie_placeholders(headers: list[tuple[str, str]]) -> bool:
    return any(COOKIE.search(value) for _, value in headers)


def fill_cookies(
    headers: list[tuple[str, str]], jar: httpx.Cookies
) -> tuple[list[tuple[str, str]], list[str]]:
    """The headers with each ``<<cookie:NAME>>`` replaced by that cookie's value in the jar,
    and the problems (a cookie no earlier answer set)."""
    problems: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        found = jar.get(name)
        if found is None:
            problems.append(
                f"<<cookie:{name}>>: the client holds no cookie {name!r} (no earlier answer set it)"
            )
            return ""
        return str(found)

    return [(name, COOKIE.sub(value, text)) for name, text in headers], problems


def filled(request: Any, jar: httpx.Cookies) -> tuple[Any, list[str]]:
    """A WireRequest with its cookie placeholders filled in from the jar, and the problems."""
    if not has_cookie_placeholders(request.headers):
        return request, []
    headers, problems = fill_cookies(request.headers, jar)
    return dataclasses.replace(request, headers=headers), problems


def send_before(
    specs: list[dict[str, Any]],
    build: Callable[[dict[str, Any]], Any],
    send: Callable[[Any], Any],
    jar: httpx.Cookies,
) -> list[str]:
    """Sends the earlier requests in order (``build`` makes a WireRequest of a spec, ``send``
    sends one and returns its Answer); the problems: a status other than the one given, a
    cookie placeholder with no cookie to fill in."""
    problems: list[str] = []
    for index, spec in enumerate(specs):
        request, missing = filled(build(spec), jar)
        problems += [f"request.before[{index}]: {problem}" for problem in missing]
        answer = send(request)
        want = spec.get("status")
        if want is not None and answer.status != want:
            where = f"request.before[{index}] {request.method} {request.target}"
            problems.append(f"{where}: status {answer.status}, expected {want}")
    return problems
