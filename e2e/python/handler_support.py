"""What the generated handlers share: echoing uploaded files by reading them."""

from __future__ import annotations

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
