"""Uploaded files of a ``multipart/form-data`` body."""

from __future__ import annotations

import tempfile
from typing import IO, Any

from ferroweb.datastructures import Headers

#: Files larger than this are spooled from memory to a temporary file on disk.
SPOOL_MAX_SIZE = 1024 * 1024


class UploadFile:
    """One uploaded file. ``file`` is a binary file object (in memory while small, on disk past
    ``SPOOL_MAX_SIZE``); the async methods mirror Starlette's so handlers read it the same way."""

    __slots__ = ("content_type", "file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes],
        *,
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        headers: Headers | None = None,
        size: int | None = None,
    ) -> None:
        self.file = file
        self.filename = filename
        self.content_type = content_type
        self.headers = headers if headers is not None else Headers([])
        self.size = size

    @classmethod
    def spooled(cls, **options: Any) -> UploadFile:
        """An empty upload backed by a spooled temporary file, for a parser to write into."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)  # noqa: SIM115 - closed by close()
        return cls(spool, size=0, **options)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Lets a pydantic form model declare ``UploadFile`` fields: an uploaded file is taken
        as it is (pydantic calls this only when it builds such a model)."""
        from pydantic_core import core_schema

        return core_schema.is_instance_schema(cls)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        """How a form model's file field is documented (OpenAPI's binary string)."""
        return {"type": "string", "format": "binary"}

    @property
    def in_memory(self) -> bool:
        rolled = getattr(self.file, "_rolled", True)
        return not rolled

    async def read(self, size: int = -1) -> bytes:
        return self.file.read(size)

    async def write(self, data: bytes) -> None:
        self.file.write(data)
        self.size = (self.size or 0) + len(data)

    async def seek(self, offset: int) -> None:
        self.file.seek(offset)

    async def close(self) -> None:
        self.file.close()

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, size={self.size!r}, content_type={self.content_type!r})"
        )
