"""What the generated handlers share: echoing uploaded files by reading them; for the streamed
behaviours, where the fixture files are and a record of what each generator did; for WebSocket
handlers, what the handler saw of its session; for background tasks, a journal of what the handler
and its tasks did; for dependency factories and hooks, a journal of the events they record; for
lifespan hooks, notes written to a file that outlives the server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ferroweb import background
from ferroweb.params import UploadFile


def _describe(upload: UploadFile, content: bytes) -> dict[str, Any]:
    return {
        "filename": upload.filename,
        "content_type": upload.content_type,
        "size": upload.size,
        "content": content.decode("utf-8", errors="replace"),
    }


async def read_upload(value: Any) -> Any:
    """An upload (or a list of them, or None) as ``{filename, content_type, size, content}``,
    read through the async API a handler would use."""
    if isinstance(value, list):
        return [await read_upload(item) for item in value]
    if isinstance(value, UploadFile):
        return _describe(value, await value.read())
    return value


def read_upload_sync(value: Any) -> Any:
    """The same for sync handlers, reading the underlying file object."""
    if isinstance(value, list):
        return [read_upload_sync(item) for item in value]
    if isinstance(value, UploadFile):
        return _describe(value, value.file.read())
    return value


# -- streamed behaviours ----------------------------------------------------------------------

#: Where the test writes the files of the ``file`` fixtures; a live server gets it from the
#: environment, the in-process TestClient through ``use_files_root``.
FILES_ENV = "FERROWEB_E2E_FILES"
_files_root: Path | None = None


def use_files_root(root: Path | None) -> None:
    global _files_root
    _files_root = root


def fixture_files(fixture: str) -> Path:
    """The directory holding a fixture's files (``<root>/<fixture name>``)."""
    root = _files_root
    if root is None:
        configured = os.environ.get(FILES_ENV)
        if not configured:
            raise RuntimeError(f"{FILES_ENV} is not set: the test did not say where the fixture files are")
        root = Path(configured)
    return root / fixture


@dataclass
class Probe:
    """What a streamed handler's generator did: started, items produced, ran to its end,
    closed (its ``finally`` ran, whether it ended, failed or was cancelled)."""

    started: bool = True
    produced: int = 0
    completed: bool = False
    closed: bool = False


@dataclass
class Session:
    """What a WebSocket handler saw: whether it accepted, the messages it received and sent,
    the ``WebSocketDisconnect`` that ended it (code and reason) and whether it ran to its end."""

    accepted: bool = False
    received: int = 0
    sent: int = 0
    disconnect: dict[str, Any] | None = None
    completed: bool = False


#: Seconds a background task waits for its journal's gate before it goes on regardless.
GATE_TIMEOUT = 5.0


class Journal:
    """What a background fixture's handler and tasks did, in order (``events``).

    The tasks first wait for the gate, which opens when the journal is first read, that is when
    the test fetches it right after the response arrived: what the journal held then
    (``at_response``) shows that no task had run before the response, and a response that
    waited for its tasks would never come. ``metrics`` are ``background.metrics()`` read with the
    journal: queued and running as they are, the other counts since the handler started it."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.at_response: list[Any] | None = None
        self._gate = threading.Event()
        self._baseline = background.metrics()

    def add(self, event: Any) -> None:
        self.events.append(event)  # list.append is atomic: tasks in threads add too

    def pass_gate_sync(self) -> None:
        if not self._gate.wait(GATE_TIMEOUT):
            self.add("gate timed out")

    async def pass_gate(self) -> None:
        deadline = time.monotonic() + GATE_TIMEOUT
        while not self._gate.is_set():
            if time.monotonic() > deadline:
                self.add("gate timed out")
                return
            await asyncio.sleep(0.005)

    def state(self) -> dict[str, Any]:
        if self.at_response is None:
            self.at_response = list(self.events)
            self._gate.set()
        now, then = background.metrics(), self._baseline
        return {
            "events": list(self.events),
            "at_response": self.at_response,
            "metrics": {
                "queued": now.queued,
                "running": now.running,
                "completed": now.completed - then.completed,
                "failed": now.failed - then.failed,
                "dropped": now.dropped - then.dropped,
            },
        }


def task_record(task: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a background task records: its name, the arguments it got, and whether it ran on
    the event loop's thread (the main thread) or in a worker thread."""
    on_main = threading.current_thread() is threading.main_thread()
    return {"task": task, "args": list(args), "kwargs": kwargs, "thread": "main" if on_main else "worker"}


#: The probe of each fixture's latest request, by fixture name (one process: one server).
PROBES: dict[str, Probe | Session | Journal] = {}


def start_probe(fixture: str) -> Probe:
    probe = PROBES[fixture] = Probe()
    return probe


def start_session(fixture: str) -> Session:
    session = PROBES[fixture] = Session()
    return session


def start_journal(fixture: str) -> Journal:
    journal = PROBES[fixture] = Journal()
    return journal


def journal_of(fixture: str) -> Journal:
    """The journal the fixture's latest request started (its tasks write to it)."""
    journal = PROBES[fixture]
    if not isinstance(journal, Journal):
        raise TypeError(f"{fixture} has no background journal")
    return journal


def probe_state(fixture: str) -> dict[str, Any]:
    """The probe as JSON; ``started: false`` when the generator never ran."""
    probe = PROBES.get(fixture)
    if isinstance(probe, Journal):
        return probe.state()
    return dataclasses.asdict(probe) if probe is not None else dataclasses.asdict(Probe(started=False))


# -- recorded events (dependencies, hooks) ------------------------------------------------------

#: Where the probe route lives: an app's own hooks, middleware and dependencies see the test's
#: probe reads too, and pass them on untouched (``is_probe``).
PROBE_PREFIX = "/__e2e__/"
RECORDED_SUFFIX = ".recorded"


def recorded(fixture: str) -> Journal:
    """The journal of a fixture's dependency factories, hooks, middleware and handler, kept in
    the probes as ``<fixture>.recorded`` (apart from a WebSocket session or generator probe of
    the same fixture). A fixture's requests are sent once per process, so the first event
    starts it; the test reads it through the probe route, whose first read opens its gate."""
    key = fixture + RECORDED_SUFFIX
    journal = PROBES.get(key)
    if not isinstance(journal, Journal):
        journal = PROBES[key] = Journal()
    return journal


def record(fixture: str, event: Any) -> None:
    recorded(fixture).add(event)


def is_probe(request: Any) -> bool:
    """Whether the request is the test reading a probe."""
    return bool(request.path.startswith(PROBE_PREFIX))


# -- lifespan ---------------------------------------------------------------------------------

NOTES_FILE = "notes.jsonl"
_notes_lock = threading.Lock()


def note(fixture: str, event: Any) -> None:
    """Appends an event to the fixture's notes file (in its fixture directory): start-up and
    shutdown hooks write there, so the test reads what they did once the server has stopped."""
    directory = fixture_files(fixture)
    with _notes_lock:
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / NOTES_FILE, "a", encoding="utf-8") as file:
            file.write(json.dumps(event) + "\n")


# -- static files -------------------------------------------------------------------------------

_static_base: Path | None = None


def _encode(encoding: str, text: str) -> bytes:
    data = text.encode()
    if encoding == "gzip":
        import gzip

        return gzip.compress(data, mtime=0)
    if encoding == "br":
        import brotli

        return bytes(brotli.compress(data))
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    raise ValueError(f"unknown encoding {encoding!r}")


def static_tree(fixture: str, public: dict[str, Any], outside: dict[str, str]) -> Path:
    """Writes a ``static_files`` fixture's tree and returns the directory to mount:
    ``<base>/<fixture>/public`` holds ``public`` (text, or ``{"encoding", "text"}`` for a
    precompressed sibling), ``<base>/<fixture>`` the ``outside`` files a traversal would be
    after. Each process (the test run, a live server) writes its own copy when the app module
    is imported, and removes it when it exits."""
    global _static_base
    if _static_base is None:
        import atexit
        import shutil
        import tempfile

        _static_base = Path(tempfile.mkdtemp(prefix="ferroweb-e2e-static-"))
        atexit.register(shutil.rmtree, _static_base, True)
    root = _static_base / fixture
    directory = root / "public"
    directory.mkdir(parents=True, exist_ok=True)
    for relative, content in outside.items():
        (root / relative).write_text(content)
    for relative, content in public.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(_encode(content["encoding"], content["text"]))
    return directory
