"""What the generated handlers share: echoing uploaded files by reading them; for the streamed
behaviours, where the fixture files are and a record of what each generator did."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


#: The probe of each fixture's latest request, by fixture name (one process: one server).
PROBES: dict[str, Probe] = {}


def start_probe(fixture: str) -> Probe:
    probe = PROBES[fixture] = Probe()
    return probe


def probe_state(fixture: str) -> dict[str, Any]:
    """The probe as JSON; ``started: false`` when the generator never ran."""
    probe = PROBES.get(fixture)
    return dataclasses.asdict(probe) if probe is not None else dataclasses.asdict(Probe(started=False))
