"""Background-task and lifespan fixtures: what ``fixture_client`` checks beyond the response.

- ``wait_for_journal``: a ``background`` fixture's journal (``e2e/python/handler_support.py``),
  read through the app's probe route right after the response (that first read opens the gate
  the tasks wait at), then polled until it matches ``expected_response.background`` and until
  no task is queued or running, so that the next fixture starts from a quiet supervisor.
- ``wait_for_recorded``: the journal of a fixture's dependency factories, hooks and handler
  (``<fixture>.recorded``), read the same way; ``wait_for_log`` polls what the server logged.
- ``read_notes`` / ``notes_differences``: a ``lifespan`` fixture's notes, written by its hooks
  to a file that outlives the app, read once the app has stopped (TestClient closed, or the
  live server exited after SIGTERM).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from e2e.python.handler_support import NOTES_FILE
from e2e.python.stream_support import poll

POLL_TIMEOUT = 5.0
Differences = Callable[[Any, Any, str], list[str]]


# -- background -------------------------------------------------------------------------------


def _unordered(expected: list[Any], actual: list[Any], differences: Differences, where: str) -> list[str]:
    if len(expected) != len(actual):
        return [f"{where}: expected {len(expected)} items {expected}, got {len(actual)} {actual}"]
    left = list(actual)
    problems = []
    for want in expected:
        match = next((i for i, got in enumerate(left) if not differences(want, got, where)), None)
        if match is None:
            problems.append(f"{where}: nothing matches {json.dumps(want)} among {json.dumps(left)}")
        else:
            left.pop(match)
    return problems


def journal_differences(want: dict[str, Any], state: dict[str, Any], differences: Differences) -> list[str]:
    problems: list[str] = []
    if "events" in want:
        if want.get("unordered"):
            problems += _unordered(want["events"], state.get("events", []), differences, "background.events")
        else:
            problems += differences(want["events"], state.get("events"), "background.events")
    if "at_response" in want:
        problems += differences(want["at_response"], state.get("at_response"), "background.at_response")
    for key, value in want.get("metrics", {}).items():
        problems += differences(value, state.get("metrics", {}).get(key), f"background.metrics.{key}")
    return problems


def wait_for_journal(
    fetch: Callable[[], dict[str, Any]], want: dict[str, Any], differences: Differences
) -> list[str]:
    """Polls the journal until it has what ``want`` describes, then until the supervisor is
    idle; the differences left after POLL_TIMEOUT seconds each."""
    _, found = poll(fetch, lambda state: journal_differences(want, state, differences), POLL_TIMEOUT)
    if found:
        return found

    def busy(state: dict[str, Any]) -> list[str]:
        metrics = state["metrics"]
        if metrics["queued"] or metrics["running"]:
            return [f"background: tasks still queued or running after {POLL_TIMEOUT}s: {metrics}"]
        return []

    return poll(fetch, busy, POLL_TIMEOUT)[1]


# -- recorded events (dependencies, hooks) ------------------------------------------------------


def recorded_differences(want: dict[str, Any], state: dict[str, Any], differences: Differences) -> list[str]:
    """``expected_response.recorded`` against the journal's state; no journal (nothing was
    recorded) reads as an empty one."""
    if "events" not in state:
        state = {"events": [], "at_response": []}
    problems: list[str] = []
    if "events" in want:
        if want.get("unordered"):
            problems += _unordered(want["events"], state["events"], differences, "recorded.events")
        else:
            problems += differences(want["events"], state["events"], "recorded.events")
    if "at_response" in want:
        problems += differences(want["at_response"], state["at_response"], "recorded.at_response")
    return problems


def wait_for_recorded(
    fetch: Callable[[], dict[str, Any]], want: dict[str, Any], differences: Differences
) -> list[str]:
    """Polls the fixture's journal (its first read right after the response) until it holds
    what ``want`` describes; the differences left after POLL_TIMEOUT seconds."""
    return poll(fetch, lambda state: recorded_differences(want, state, differences), POLL_TIMEOUT)[1]


def wait_for_log(read: Callable[[], str], texts: list[str]) -> list[str]:
    """Polls what the server logged until it holds every text (a cleanup failure is logged
    after the response)."""

    def missing(state: dict[str, Any]) -> list[str]:
        return [f"logged: {text!r} is not in the log" for text in texts if text not in state["log"]]

    return poll(lambda: {"log": read()}, missing, POLL_TIMEOUT)[1]


# -- lifespan ---------------------------------------------------------------------------------


def notes_path(files_root: Path, fixture: dict[str, Any]) -> Path:
    """Where the app writes the fixture's notes (``note`` in handler_support)."""
    return files_root / str(fixture["name"]) / NOTES_FILE


def clear_notes(files_root: Path, fixture: dict[str, Any]) -> None:
    notes_path(files_root, fixture).unlink(missing_ok=True)


def read_notes(files_root: Path, fixture: dict[str, Any]) -> list[Any]:
    path = notes_path(files_root, fixture)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def notes_differences(
    expected: dict[str, Any], files_root: Path, fixture: dict[str, Any], differences: Differences
) -> list[str]:
    want = expected.get("lifespan", {})
    if "notes" not in want:
        return []
    return differences(want["notes"], read_notes(files_root, fixture), "lifespan.notes")


def startup_problems(expected: dict[str, Any], error: str | None) -> list[str]:
    """Whether start-up failed as the fixture says (``error``: what it failed with, or None)."""
    wanted = expected.get("lifespan", {}).get("startup_error")
    if wanted is None:
        return [f"start-up failed: {error}"] if error is not None else []
    if error is None:
        return [f"lifespan.startup_error: expected start-up to fail with {wanted!r}, it succeeded"]
    if wanted not in error:
        shown = error if len(error) <= 300 else error[:300] + "..."
        return [f"lifespan.startup_error: expected {wanted!r} in the error, got {shown!r}"]
    return []
