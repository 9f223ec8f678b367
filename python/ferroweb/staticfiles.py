"""Serving a directory: ``app.mount("/static", StaticFiles(directory="static"))``.

The files are served by the Rust core, without Python: each request is looked up, confined
to the directory, and sent with ``ETag``/``Last-Modified`` validators, ``304`` answers to
conditional requests, single byte ``Range`` requests and ``HEAD``. Directory listings are
never produced. Recently served files are kept in memory (``memory_cache_bytes``) and
answered without touching the disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from ferroweb._ferroweb import StaticDirectory

__all__ = ["DEFAULT_MEMORY_CACHE_BYTES", "StaticFiles"]

#: The default memory cache of a mounted directory: 64 MiB.
DEFAULT_MEMORY_CACHE_BYTES = 64 * 1024 * 1024


class StaticFiles:
    """The files below ``directory``, to be mounted under a path prefix.

    - ``html``: a directory is answered with its ``index`` file (``/docs`` first redirects
      with 307 to ``/docs/``), and a path that names nothing with the directory's
      ``404.html`` (status 404) when it has one; for single-page apps and static sites.
    - ``cache_control``: the ``Cache-Control`` value of every file sent (not of the 404 page).
    - ``precompressed``: a file's ``.br``, ``.zst`` or ``.gz`` sibling is sent instead, with
      its ``Content-Encoding``, when the client's ``Accept-Encoding`` prefers it; responses
      carry ``Vary: Accept-Encoding``.
    - ``follow_symlinks``: follow symbolic links wherever they lead. Off (the default), a link
      may only point inside the directory; one that leads out answers 404.
    - ``memory_cache_bytes``: how many bytes of recently served files are kept in memory and
      sent without a disk read (``0``: none). A file bigger than a sixteenth of it is always
      read from disk. A cached file is checked against the disk again once it has been held
      for a second, so a file replaced on disk may be served as it was for up to a second.

    Paths with ``..`` segments, encoded separators (``%2f``, ``%5c``), NUL bytes or drive
    letters answer 404 and never reach the file system. The directory must exist when the
    ``StaticFiles`` is made (``FileNotFoundError``/``NotADirectoryError`` otherwise).
    """

    __slots__ = (
        "_directory",
        "cache_control",
        "directory",
        "follow_symlinks",
        "html",
        "index",
        "memory_cache_bytes",
        "precompressed",
    )

    def __init__(
        self,
        directory: str | os.PathLike[str],
        html: bool = False,
        index: str = "index.html",
        cache_control: str | None = None,
        precompressed: bool = True,
        follow_symlinks: bool = False,
        memory_cache_bytes: int = DEFAULT_MEMORY_CACHE_BYTES,
    ) -> None:
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"StaticFiles directory must be a path, not {type(directory).__name__}")
        if not isinstance(index, str):
            raise TypeError(f"StaticFiles index must be a file name, not {type(index).__name__}")
        if cache_control is not None and not isinstance(cache_control, str):
            raise TypeError("StaticFiles cache_control must be a string or None")
        if isinstance(memory_cache_bytes, bool) or not isinstance(memory_cache_bytes, int):
            raise TypeError("StaticFiles memory_cache_bytes must be an int")
        if memory_cache_bytes < 0:
            raise ValueError("StaticFiles memory_cache_bytes must be 0 (no cache) or more")
        self._directory = StaticDirectory(
            os.fspath(directory),
            html=bool(html),
            index=index,
            cache_control=cache_control,
            precompressed=bool(precompressed),
            follow_symlinks=bool(follow_symlinks),
            memory_cache_bytes=memory_cache_bytes,
        )
        #: The directory served, absolute, with its symbolic links resolved.
        self.directory: Path = self._directory.root
        self.html = bool(html)
        self.index = index
        self.cache_control = cache_control
        self.precompressed = bool(precompressed)
        self.follow_symlinks = bool(follow_symlinks)
        self.memory_cache_bytes = memory_cache_bytes

    def __repr__(self) -> str:
        return (
            f"StaticFiles(directory={str(self.directory)!r}, html={self.html!r}, index={self.index!r}, "
            f"cache_control={self.cache_control!r}, precompressed={self.precompressed!r}, "
            f"follow_symlinks={self.follow_symlinks!r}, memory_cache_bytes={self.memory_cache_bytes!r})"
        )
