"""Response classes. A handler may also return plain values; see ``ferroweb.routing``."""

from __future__ import annotations

import http.cookies
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from ferroweb._pydantic import encode_fallback
from ferroweb.datastructures import MutableHeaders

_json_encode = msgspec.json.Encoder(enc_hook=encode_fallback).encode


class Response:
    """A response with a fully known body."""

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        if not isinstance(status_code, int) or not 100 <= status_code <= 999:
            raise ValueError(f"invalid HTTP status code {status_code!r}")
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.body = self.render(content)
        self.headers = headers_ = MutableHeaders(headers)
        media_type = self.media_type
        if media_type is not None:
            for name, _ in headers_._items:
                if name == "content-type":
                    break
            else:
                if (
                    media_type.startswith("text/")
                    and media_type != "text/event-stream"
                    and "charset=" not in media_type.lower()
                ):
                    media_type += f"; charset={self.charset}"
                headers_._items.append(("content-type", media_type))

    def render(self, content: Any) -> bytes:
        if content.__class__ is bytes:
            return content
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        if isinstance(content, str):
            return content.encode(self.charset)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__};"
            " use JSONResponse for data"
        )

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        cookie: http.cookies.BaseCookie[str] = http.cookies.SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age
        if expires is not None:
            if isinstance(expires, datetime):
                morsel["expires"] = format_datetime(expires.astimezone(timezone.utc), usegmt=True)
            else:
                morsel["expires"] = expires
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError("samesite must be 'strict', 'lax' or 'none'")
            morsel["samesite"] = samesite
        header = cookie.output(header="").strip()
        if partitioned:
            header += "; Partitioned"
        self.headers.append("set-cookie", header)

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        self.set_cookie(
            key,
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} status_code={self.status_code}>"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json_encode(content)


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class RedirectResponse(Response):
    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content=b"", status_code=status_code, headers=headers)
        self.headers["location"] = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")


class StreamingResponse(Response):
    """A response whose body is produced chunk by chunk.

    ``content`` is an async iterable, or a sync iterable (stepped in a worker thread so it
    never blocks the event loop), of ``bytes`` or ``str`` chunks. Each chunk is sent as soon
    as it is produced (chunked transfer encoding). The buffer towards the client is bounded:
    a slow client slows the generator down. When the client disconnects, the generator is
    cancelled at its current ``await`` and closed.

    The first chunk is produced before the status line is sent, so an exception there still
    becomes a 500 response; after that, an exception aborts the transfer (the client sees a
    broken connection, never a short body that looks complete) and is logged.
    """

    #: Send the status and headers before the first chunk (event streams that may stay
    #: silent for a while).
    send_head_early = False
    #: ``(seconds, payload)`` sent whenever the stream was idle that long; see ``ferroweb.sse``.
    keep_alive: tuple[float, bytes] | None = None

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        if isinstance(content, (bytes, str)) or not (
            hasattr(content, "__aiter__") or hasattr(content, "__iter__")
        ):
            raise TypeError(
                "StreamingResponse content must be an iterable or async iterable of bytes or str,"
                f" not {type(content).__name__}"
            )
        self.body_iterator = content
        super().__init__(None, status_code, headers, media_type)


class FileResponse(Response):
    """A file from disk, sent by the Rust core without Python touching its bytes.

    The core adds Content-Length, Last-Modified, an ETag and Accept-Ranges, and answers
    conditional requests (``If-None-Match``/``If-Modified-Since`` -> 304, ``If-Match``/
    ``If-Unmodified-Since`` -> 412) and single ``Range`` requests (206, or 416 when
    unsatisfiable; ``If-Range`` honoured). ``media_type`` defaults to a guess from the file
    extension; ``filename`` sends it as a download (``Content-Disposition: attachment``).
    A missing file answers 404, an unreadable one 403.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.filename = filename
        # The core fills the content type in (it guesses from the extension), so none is
        # added here unless given.
        super().__init__(None, status_code, headers, media_type)
        self.file_media_type = media_type
