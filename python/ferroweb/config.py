"""Server settings. Declared here; validated (when made) and enforced by the Rust core."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from ferroweb._ferroweb import check_server_config

LoopKind = Literal["auto", "uvloop", "asyncio"]


@dataclass(frozen=True)
class BackgroundConfig:
    """Limits of the background-task supervisor (see ``ferroweb.background``)."""

    #: Tasks waiting to start; ``background.run`` beyond this raises (503 in a handler).
    max_queue: int = 1024
    #: Tasks running at once.
    max_concurrency: int = 64
    #: Seconds queued and running tasks get to finish at shutdown before they are cancelled.
    drain_timeout: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_queue", "max_concurrency"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"BackgroundConfig.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.drain_timeout, (int, float)) or self.drain_timeout < 0:
            raise ValueError(
                f"BackgroundConfig.drain_timeout must be >= 0 seconds, got {self.drain_timeout!r}"
            )


@dataclass(frozen=True)
class ServerConfig:
    """Settings of a ferroweb server. Limits and timeouts are on by default.

    Timeouts are in seconds; ``None`` disables the one it is set on.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    #: OS processes sharing the port through SO_REUSEPORT, each with its own interpreter.
    workers: int = 1
    #: Tokio threads per process (they never run Python).
    runtime_threads: int = 1
    backlog: int = 1024
    #: Idle time after which a keep-alive connection is closed.
    keep_alive_timeout: float | None = 5.0
    #: Time a client has to send a complete request head (also bounds idle keep-alive).
    header_read_timeout: float | None = 30.0
    #: Largest request head (request line and headers), bytes; larger ones are refused
    #: (431, or a closed connection when the head overflows while still arriving).
    max_header_size: int = 16 * 1024
    #: Largest request body, bytes, enforced while reading; larger ones get 413.
    max_body_size: int | None = 10 * 1024 * 1024
    #: Most parts (fields and files) one multipart body may have; more get 413.
    max_form_parts: int = 1000
    #: Largest non-file multipart field / url-encoded body value, bytes; larger ones get 413.
    max_form_field_size: int = 1024 * 1024
    #: Deepest nesting of arrays and objects a JSON body may have; deeper ones get 400 before
    #: they are decoded (a decoder recurses per level).
    max_json_depth: int = 64
    #: Largest single uploaded file, bytes (``None``: only ``max_body_size`` applies).
    max_upload_file_size: int | None = None
    #: Largest WebSocket message (fragments reassembled), bytes; larger ones close with 1009.
    websocket_max_message_size: int = 16 * 1024 * 1024
    #: A WebSocket that receives nothing (not even a pong) this long is closed with 1001.
    websocket_idle_timeout: float | None = 60.0
    #: How often the server pings each WebSocket, so quiet but live peers stay open.
    websocket_ping_interval: float | None = 20.0
    #: Messages a WebSocket handler may queue before ``send`` waits for the socket.
    websocket_send_queue: int = 64
    #: How long in-flight requests may finish after SIGINT/SIGTERM.
    shutdown_timeout: float = 30.0
    #: Threads for handlers registered with ``blocking=True``.
    blocking_threads: int = 40
    #: Event loop: uvloop when installed ("auto"), or force one.
    loop: LoopKind = "auto"
    #: The background-task supervisor's limits.
    background: BackgroundConfig = dataclasses.field(default_factory=BackgroundConfig)

    def __post_init__(self) -> None:
        # What the core enforces is checked by the core, with its rules and messages; only the
        # settings Python alone reads are checked here.
        check_server_config(self)
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"ServerConfig.workers must be at least 1, got {self.workers!r}")
        if not isinstance(self.blocking_threads, int) or self.blocking_threads < 1:
            raise ValueError(
                f"ServerConfig.blocking_threads must be at least 1, got {self.blocking_threads!r}"
            )
        if not isinstance(self.background, BackgroundConfig):
            raise TypeError(
                f"ServerConfig.background must be a BackgroundConfig, not {type(self.background).__name__}"
            )
        if self.loop not in ("auto", "uvloop", "asyncio"):
            raise ValueError(f"ServerConfig.loop must be auto, uvloop or asyncio, got {self.loop!r}")
        for name in ("max_form_parts", "max_form_field_size", "max_json_depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ServerConfig.{name} must be a positive integer, got {value!r}")
        if self.max_upload_file_size is not None and (
            not isinstance(self.max_upload_file_size, int) or self.max_upload_file_size < 0
        ):
            raise ValueError(
                f"ServerConfig.max_upload_file_size must be >= 0 or None, got {self.max_upload_file_size!r}"
            )

    def replace(self, **changes: Any) -> ServerConfig:
        """A copy with some fields changed; ``None`` values in ``changes`` are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})
