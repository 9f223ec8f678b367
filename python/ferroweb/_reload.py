"""``ferroweb run --reload``: the server runs as a child process, restarted by watchfiles when
a watched file changes (debounced).

The child is the same ``ferroweb run`` command without ``--reload``; it inherits the
environment (an ``--env-file``'s variables included). A restart stops the child with SIGINT,
which it answers with its graceful shutdown (SIGKILL after ``STOP_TIMEOUT`` seconds), so its
socket is closed before the next child binds it; SIGINT or SIGTERM to the watcher stops the
child the same way before the watcher exits. Only the watcher needs watchfiles.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import importlib.util
import os
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

#: Seconds a child gets to shut down at a restart before it is killed.
STOP_TIMEOUT = 10
DEBOUNCE_MS = 400


def child_command(args: argparse.Namespace) -> list[str]:
    """The ``ferroweb run`` command the watcher restarts: the same options, no ``--reload``."""
    command = [sys.executable, "-m", "ferroweb", "run", args.app, "--log-level", args.log_level]
    for flag, value in (
        ("--host", args.host),
        ("--port", args.port),
        ("--workers", args.workers),
        ("--runtime-threads", args.runtime_threads),
        ("--loop", args.loop),
    ):
        if value is not None:
            command += [flag, str(value)]
    return command


def watched_directories(args: argparse.Namespace) -> list[Path]:
    """``--reload-dir`` entries, else the directory holding the app's module (else cwd)."""
    if args.reload_dir:
        directories = [Path(directory).resolve() for directory in args.reload_dir]
        missing = [str(directory) for directory in directories if not directory.is_dir()]
        if missing:
            raise SystemExit(f"error: --reload-dir: no such directory: {', '.join(missing)}")
        return directories
    module_name = args.app.partition(":")[0]
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin and spec.origin not in ("built-in", "frozen"):
        origin = Path(spec.origin).resolve()
        # a package's files are beside its __init__; a module's beside it
        return [origin.parent]
    return [Path.cwd()]


class IncludeFilter:
    """Changes to files whose name matches one of the patterns (default ``*.py``), outside
    the directories tools keep caches in."""

    ignored_parts = frozenset({"__pycache__", ".git", ".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache"})

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = patterns or ["*.py"]

    def __call__(self, change: Any, path: str) -> bool:
        parts = Path(path).parts
        if self.ignored_parts.intersection(parts):
            return False
        name = parts[-1] if parts else path
        return any(fnmatch.fnmatch(name, pattern) for pattern in self.patterns)


def _stop_watching(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # watchfiles stops the child on its way out


def serve_reloading(args: argparse.Namespace) -> int:
    """Runs the app under the watcher until SIGINT/SIGTERM; the exit status."""
    try:
        import watchfiles
    except ImportError:
        raise SystemExit("error: --reload needs watchfiles: pip install watchfiles") from None
    directories = watched_directories(args)
    command = shlex.join(child_command(args))
    signal.signal(signal.SIGTERM, _stop_watching)
    print(f"ferroweb: watching {', '.join(map(str, directories))} for changes", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # the watcher's way of stopping
        watchfiles.run_process(
            *directories,
            target=command,
            target_type="command",
            watch_filter=IncludeFilter(args.reload_include),
            debounce=DEBOUNCE_MS,
            sigint_timeout=STOP_TIMEOUT,
            callback=lambda changes: print(
                f"ferroweb: {len(changes)} change(s) detected, restarting", file=sys.stderr, flush=True
            ),
        )
    return 0
