"""Background tasks (filled in below)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class BackgroundTasks:
    """Tasks a handler adds; they run in order after its response is sent.

    Declare a parameter ``tasks: BackgroundTasks`` and call ``tasks.add_task(fn, *args,
    **kwargs)``; ``fn`` may be a coroutine function or a plain function (run in a thread).
    """

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if not callable(func):
            raise TypeError(f"background task must be callable, not {type(func).__name__}")
        self.tasks.append((func, args, kwargs))
