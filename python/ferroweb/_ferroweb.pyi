"""Type stubs for the Rust extension (checked against it by mypy.stubtest)."""

import os
from collections.abc import Callable
from typing import Any, final

__all__ = ["RawRequest", "RequestQueue", "ResponseStream", "Server", "TestStream", "TestTransport", "__version__"]

__version__: str

#: ``(source, key, path_index, scalar, many, bounds)`` of one typed parameter (stub-only name).
_ParamPlanEntry = tuple[str, str, int, str, bool, dict[str, float]]

@final
class RequestQueue:
    """Requests handed from the Rust runtime to the Python event loop, in batches."""

    def __new__(cls) -> RequestQueue: ...
    def fileno(self) -> int: ...
    def drain(self) -> tuple[list[int], list[RawRequest]]: ...
    def close(self) -> None: ...
    @property
    def server_stopped(self) -> bool: ...
    @property
    def server_drained(self) -> bool: ...

@final
class ResponseStream:
    """The writing end of a streamed response body (bounded; see ``ferroweb._streaming``)."""

    def write(self, chunk: bytes | bytearray | memoryview | str) -> int: ...
    def notify_when_writable(self, token: int) -> None: ...
    def notify_when_closed(self, token: int) -> None: ...
    @property
    def closed(self) -> bool: ...
    def finish(self) -> None: ...
    def abort(self, reason: str) -> None: ...

@final
class RawRequest:
    """A lazy view over one routed request; answer it exactly once."""

    @property
    def route(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query_string(self) -> str: ...
    @property
    def http_version(self) -> str: ...
    def query_params(self) -> list[tuple[str, str]]: ...
    def param_values(self) -> tuple[list[Any], list[tuple[int, int | None, str, str]] | None]: ...
    def path_params(self) -> list[str]: ...
    def headers(self) -> list[tuple[str, str]]: ...
    def header(self, name: str) -> str | None: ...
    def body(self) -> bytes: ...
    def client(self) -> tuple[str, int] | None: ...
    def routing_error(self) -> tuple[int, str, str | None] | None: ...
    def is_disconnected(self) -> bool: ...
    def respond(
        self,
        status: int,
        body: bytes | str | None,
        kind: int,
        headers: list[tuple[str, str]] | None = None,
    ) -> bool: ...
    def respond_stream(
        self,
        status: int,
        kind: int,
        queue: RequestQueue,
        headers: list[tuple[str, str]] | None = None,
        keep_alive: tuple[float, bytes] | None = None,
    ) -> ResponseStream: ...
    def respond_file(
        self,
        status: int,
        path: str | os.PathLike[str],
        headers: list[tuple[str, str]] | None = None,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> bool: ...
    def respond_problem(
        self,
        status: int,
        detail: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        extensions: bytes | None = None,
    ) -> bool: ...

@final
class Server:
    """A running network server; starts serving when created."""

    def __new__(
        cls,
        config: Any,
        routes: list[tuple[int, str, list[str], list[_ParamPlanEntry] | None]],
        queue: RequestQueue,
        error_route: int | None = None,
    ) -> Server: ...
    @property
    def local_addr(self) -> tuple[str, int]: ...
    def shutdown(self) -> None: ...
    def close(self, grace: float = 1.0) -> None: ...

@final
class TestTransport:
    """Sends requests through the app's Rust service in-process."""

    def __new__(
        cls,
        config: Any,
        routes: list[tuple[int, str, list[str], list[_ParamPlanEntry] | None]],
        queue: RequestQueue,
        error_route: int | None = None,
    ) -> TestTransport: ...
    def send(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        on_done: Callable[[int, list[tuple[str, bytes]], bytes], object],
        on_error: Callable[[str], object],
    ) -> None: ...
    def send_streaming(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
        on_head: Callable[[int, list[tuple[str, bytes]]], object],
        on_chunk: Callable[[bytes], object],
        on_end: Callable[[str | None], object],
    ) -> TestStream: ...
    def close(self) -> None: ...

@final
class TestStream:
    """A streamed in-process response being read."""

    def consumed(self) -> None: ...
    def cancel(self) -> None: ...
