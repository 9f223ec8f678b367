"""Type stubs for the Rust extension (checked against it by mypy.stubtest)."""

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar, final

__all__ = [
    "ApiKeyScheme",
    "BackgroundSupervisor",
    "CompressionPolicy",
    "ContentKind",
    "CorsPolicy",
    "CsrfPolicy",
    "JobOutcome",
    "JwtScheme",
    "MessageKind",
    "MiddlewareStack",
    "MountSpec",
    "ParamSpec",
    "RateLimitPolicy",
    "RawRequest",
    "RequestQueue",
    "ResponseAlreadySent",
    "ResponseStream",
    "RouteSpec",
    "RoutingPlan",
    "SecurityHeadersPolicy",
    "Server",
    "SessionPolicy",
    "StaticDirectory",
    "SubmitOutcome",
    "TestStream",
    "TestTransport",
    "TestWebSocket",
    "TrustedHostsPolicy",
    "WebSocketConnection",
    "WriteOutcome",
    "__version__",
    "check_server_config",
    "json_nesting_exceeds",
    "parse_bool",
    "parse_float",
    "parse_int",
]

_T = TypeVar("_T")

__version__: str

# Stub-only aliases (private: the extension does not define them).
#: Where the core reads a parameter from, and what it converts it to ("raw": the strings as
#: sent, for the binding to convert).
_ParamSource = Literal["path", "query", "header", "cookie"]
_ParamScalar = Literal["str", "int", "float", "bool", "raw"]
#: ``(parameter position, occurrence or None, error type, input)`` of a refused value.
_ParamIssue = tuple[int, int | None, str, str]
#: A response header list: ``(name, value)`` pairs, repeated names kept.
_HeaderList = Sequence[tuple[str, str]]
#: A request's headers as a client sends them: bytes, not re-encoded.
_RawHeaderList = Sequence[tuple[bytes, bytes]]

class ResponseAlreadySent(RuntimeError):
    """The request was already answered: a second response cannot be sent."""

@final
class ContentKind:
    """The content type a full response is sent with."""

    JSON: ClassVar[ContentKind]
    TEXT: ClassVar[ContentKind]
    HTML: ClassVar[ContentKind]
    OCTET_STREAM: ClassVar[ContentKind]
    PROBLEM_JSON: ClassVar[ContentKind]
    UNSPECIFIED: ClassVar[ContentKind]
    def __int__(self) -> int: ...

@final
class WriteOutcome:
    """What a non-blocking write (a stream chunk, a WebSocket message) did."""

    WRITTEN: ClassVar[WriteOutcome]
    FULL: ClassVar[WriteOutcome]
    CLOSED: ClassVar[WriteOutcome]
    def __int__(self) -> int: ...

@final
class MessageKind:
    """What a received WebSocket item carries."""

    TEXT: ClassVar[MessageKind]
    BINARY: ClassVar[MessageKind]
    CLOSED: ClassVar[MessageKind]
    def __int__(self) -> int: ...

@final
class SubmitOutcome:
    """What submitting a background job did."""

    QUEUED: ClassVar[SubmitOutcome]
    QUEUE_FULL: ClassVar[SubmitOutcome]
    SHUTTING_DOWN: ClassVar[SubmitOutcome]
    def __int__(self) -> int: ...

@final
class JobOutcome:
    """How a background job ended."""

    COMPLETED: ClassVar[JobOutcome]
    FAILED: ClassVar[JobOutcome]
    CANCELLED: ClassVar[JobOutcome]
    def __int__(self) -> int: ...

@final
class ParamSpec:
    """One typed parameter the core extracts and converts for a route."""

    def __new__(
        cls,
        source: _ParamSource,
        key: str,
        scalar: _ParamScalar,
        *,
        many: bool = False,
        path_index: int = 0,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
    ) -> ParamSpec: ...
    @property
    def source(self) -> _ParamSource: ...
    @property
    def key(self) -> str: ...
    @property
    def scalar(self) -> _ParamScalar: ...
    @property
    def many(self) -> bool: ...
    @property
    def path_index(self) -> int: ...

@final
class RouteSpec:
    """One route as the core's router serves it."""

    def __new__(
        cls,
        id: int,
        path: str,
        methods: Sequence[str],
        params: Sequence[ParamSpec] | None = None,
        *,
        websocket: bool = False,
        middleware: MiddlewareStack | None = None,
        fixed: tuple[str, bytes, Sequence[tuple[str, str]]] | None = None,
    ) -> RouteSpec: ...
    @property
    def id(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def methods(self) -> list[str]: ...
    @property
    def params(self) -> list[ParamSpec] | None: ...
    @property
    def middleware(self) -> MiddlewareStack | None: ...
    @property
    def websocket(self) -> bool: ...
    @property
    def fixed_body(self) -> bytes | None: ...

@final
class RoutingPlan:
    """What the core routes for an app: routes, where misses go (``error_route``), the app's
    own middleware, static mounts, and whether misses redirect to the other slash form."""

    def __new__(
        cls,
        routes: Sequence[RouteSpec],
        *,
        error_route: int | None = None,
        middleware: MiddlewareStack | None = None,
        mounts: Sequence[MountSpec] = ...,
        redirect_slashes: bool = False,
    ) -> RoutingPlan: ...
    @property
    def routes(self) -> list[RouteSpec]: ...
    @property
    def redirect_slashes(self) -> bool: ...

@final
class StaticDirectory:
    """A checked static directory (``ferroweb.staticfiles.StaticFiles``)."""

    def __new__(
        cls,
        directory: str | os.PathLike[str],
        *,
        html: bool,
        index: str,
        cache_control: str | None,
        precompressed: bool,
        follow_symlinks: bool,
        memory_cache_bytes: int,
    ) -> StaticDirectory: ...
    @property
    def root(self) -> Path: ...

@final
class MountSpec:
    """A static directory served under a path prefix, with its effective middleware."""

    def __new__(
        cls, prefix: str, directory: StaticDirectory, *, middleware: MiddlewareStack | None = None
    ) -> MountSpec: ...
    @property
    def prefix(self) -> str: ...

@final
class CorsPolicy:
    """A checked CORS configuration (``ferroweb.middleware.CORS``)."""

    def __new__(
        cls,
        allow_origins: Sequence[str],
        allow_origin_regex: str | None,
        allow_methods: Sequence[str],
        allow_headers: Sequence[str],
        allow_credentials: bool,
        expose_headers: Sequence[str],
        max_age: int,
    ) -> CorsPolicy: ...

@final
class CompressionPolicy:
    """Checked compression settings (``ferroweb.middleware.Compression``)."""

    def __new__(
        cls, minimum_size: int, gzip: bool, brotli: bool, zstd: bool, level: int | None
    ) -> CompressionPolicy: ...

@final
class TrustedHostsPolicy:
    """Checked host patterns (``ferroweb.middleware.TrustedHosts``)."""

    def __new__(cls, hosts: Sequence[str], www_redirect: bool) -> TrustedHostsPolicy: ...

@final
class SecurityHeadersPolicy:
    """Checked security header values (``ferroweb.middleware.SecurityHeaders``)."""

    def __new__(
        cls,
        hsts: str | None,
        content_type_options: bool,
        frame_options: str | None,
        referrer_policy: str | None,
        csp: str | None,
        permissions_policy: str | None,
        cross_origin_opener_policy: str | None,
    ) -> SecurityHeadersPolicy: ...

@final
class MiddlewareStack:
    """The effective middleware of one route, as the core applies it."""

    def __new__(
        cls,
        *,
        trusted_hosts: TrustedHostsPolicy | None = None,
        cors: CorsPolicy | None = None,
        security_headers: SecurityHeadersPolicy | None = None,
        compression: CompressionPolicy | None = None,
        body_limit: int | None = None,
        timeout: float | None = None,
        timeout_status: int = 408,
        auth: list[JwtScheme | ApiKeyScheme] | None = None,
        rate_limit: RateLimitPolicy | None = None,
        csrf: CsrfPolicy | None = None,
        sessions: SessionPolicy | None = None,
    ) -> MiddlewareStack: ...

@final
class SessionPolicy:
    """Sessions: signed cookies or Redis (``store`` a redis:// URL)."""

    def __new__(
        cls,
        secret_keys: list[bytes],
        *,
        cookie: str,
        max_age: float,
        same_site: str,
        https_only: bool,
        path: str,
        domain: str | None,
        store: str | None,
        timeout: float,
    ) -> SessionPolicy: ...

@final
class CsrfPolicy:
    """Signed double-submit CSRF tokens."""

    def __new__(
        cls,
        secret: bytes,
        *,
        cookie: str,
        header: str,
        safe_methods: list[str],
        same_site: str,
        https_only: bool,
        path: str,
        domain: str | None,
    ) -> CsrfPolicy: ...

@final
class RateLimitPolicy:
    """A GCRA rate limit: ``key`` is ``"ip"``, ``"auth"`` or ``"header:<name>"``."""

    def __new__(
        cls,
        rate: str,
        burst: int | None,
        key: str,
        trusted_proxies: list[str],
        *,
        store: str | None = None,
        namespace: str = "",
        timeout: float = 0.25,
        fail_open: bool = True,
    ) -> RateLimitPolicy: ...
    def count(self, key: str) -> tuple[bool, int, int, int, int] | None: ...

@final
class JwtScheme:
    """A bearer-JWT scheme: keys (exactly one of secret, public_key, jwks) and checks."""

    def __new__(
        cls,
        *,
        secret: bytes | None = None,
        public_key: bytes | None = None,
        jwks: str | None = None,
        jwks_url: str | None = None,
        jwks_timeout: float = 5.0,
        jwks_min_refresh: float = 60.0,
        algorithms: list[str],
        audience: list[str],
        issuer: list[str],
        leeway: int,
        required_claims: list[str],
        scopes: list[str],
        cookie: str | None,
        max_token_bytes: int,
    ) -> JwtScheme: ...

@final
class ApiKeyScheme:
    """An API-key scheme: ``(key, subject)`` pairs and where the key is read from."""

    def __new__(
        cls,
        keys: list[tuple[str, str]] | None,
        *,
        header: str | None = None,
        query: str | None = None,
        cookie: str | None = None,
    ) -> ApiKeyScheme: ...

def check_server_config(config: Any) -> None: ...
def parse_int(text: str) -> int | None: ...
def parse_float(text: str) -> float | Literal["float_parsing", "finite_number"]: ...
def parse_bool(text: str) -> bool | None: ...
def json_nesting_exceeds(data: bytes, limit: int) -> bool: ...

@final
class BackgroundSupervisor:
    """The core's background-task queue and concurrency limit, holding Python jobs."""

    def __new__(cls, max_queue: int, max_concurrency: int) -> BackgroundSupervisor: ...
    def submit(self, job: object) -> SubmitOutcome: ...
    def start_ready(self) -> list[Any]: ...
    def finished(self, outcome: JobOutcome) -> None: ...
    def stop_accepting(self) -> None: ...
    def take_queued(self) -> list[Any]: ...
    def metrics(self) -> tuple[int, int, int, int, int]: ...
    @property
    def idle(self) -> bool: ...

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

    def write(self, chunk: bytes | bytearray | memoryview | str) -> WriteOutcome: ...
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
    def scheme(self) -> str: ...
    @property
    def query_string(self) -> str: ...
    @property
    def http_version(self) -> str: ...
    def query_params(self) -> list[tuple[str, str]]: ...
    def param_values(self) -> tuple[list[Any], list[_ParamIssue] | None]: ...
    def path_params(self) -> list[str]: ...
    def take_websocket(self) -> WebSocketConnection | None: ...
    def headers(self) -> list[tuple[str, str]]: ...
    def header(self, name: str) -> str | None: ...
    def body(self) -> bytes: ...
    def client(self) -> tuple[str, int] | None: ...
    def auth(self) -> tuple[bytes, int] | None: ...
    def auth_credential(self) -> tuple[str, int] | None: ...
    def set_verified_auth(self, claims: bytes) -> bool: ...
    def session_data(self) -> bytes | None: ...
    def set_session_data(self, data: bytes) -> None: ...
    def routing_error(self) -> tuple[int, str, str | None] | None: ...
    def state(self, make: Callable[[], _T]) -> _T: ...
    def render_problem(
        self, status: int, detail: str | None = None, extensions: bytes | None = None
    ) -> bytes: ...
    def is_disconnected(self) -> bool: ...
    def respond(
        self,
        status: int,
        body: bytes | str | None,
        kind: ContentKind,
        headers: _HeaderList | None = None,
    ) -> bool: ...
    def respond_stream(
        self,
        status: int,
        headers: _HeaderList | None = None,
        keep_alive: tuple[float, bytes] | None = None,
    ) -> ResponseStream: ...
    def respond_file(
        self,
        status: int,
        path: str | os.PathLike[str],
        headers: _HeaderList | None = None,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> bool: ...
    def respond_problem(
        self,
        status: int,
        detail: str | None = None,
        headers: _HeaderList | None = None,
        extensions: bytes | None = None,
    ) -> bool: ...

@final
class Server:
    """A running network server; starts serving when created."""

    def __new__(
        cls,
        config: Any,
        plan: RoutingPlan,
        queue: RequestQueue,
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
        plan: RoutingPlan,
        queue: RequestQueue,
    ) -> TestTransport: ...
    def send_streaming(
        self,
        method: str,
        url: str,
        headers: _RawHeaderList,
        body: bytes,
        on_head: Callable[[int, list[tuple[str, bytes]]], object],
        on_chunk: Callable[[bytes], object],
        on_end: Callable[[str | None], object],
    ) -> TestStream: ...
    def websocket_connect(
        self,
        url: str,
        headers: _RawHeaderList,
        on_open: Callable[[int, list[tuple[str, bytes]]], object],
        on_reject: Callable[[int, list[tuple[str, bytes]], bytes], object],
        on_message: Callable[[MessageKind, str | bytes], object],
        on_close: Callable[[int, str], object],
    ) -> TestWebSocket: ...
    def shutdown(self) -> None: ...
    def close(self, grace: float = 5.0) -> None: ...

@final
class TestWebSocket:
    """The client end of an in-process WebSocket."""

    def send_text(self, text: str) -> bool: ...
    def send_bytes(self, data: bytes) -> bool: ...
    def close(self, code: int = 1000, reason: str | None = None) -> bool: ...
    def abort(self) -> None: ...

@final
class WebSocketConnection:
    """The server end of one WebSocket; see ``ferroweb.websockets``."""

    def accept(self, subprotocol: str | None = None, headers: _HeaderList | None = None) -> bool: ...
    def send_text(self, text: str) -> WriteOutcome: ...
    def send_bytes(self, data: bytes) -> WriteOutcome: ...
    def notify_when_writable(self, token: int) -> None: ...
    def receive(self) -> tuple[MessageKind, Any] | None: ...
    def notify_when_readable(self, token: int) -> None: ...
    def close(self, code: int = 1000, reason: str | None = None) -> bool: ...
    @property
    def close_status(self) -> tuple[int, str] | None: ...

@final
class TestStream:
    """A streamed in-process response being read."""

    def consumed(self) -> None: ...
    def cancel(self) -> None: ...
