"""The one exit of a request: every outcome reaches Rust through ``Responder.send``.

A handler's return value, a ``Response``, a stream, a file, a problem (an ``HTTPException``, a
validation failure, a routing miss), an unhandled exception (a 500 problem) and a refused
WebSocket handshake all leave here, and nowhere else. Hooks, metrics and access logs wrap this
one method.

``send`` never raises: a value that cannot be sent (msgspec cannot encode it, a header is
invalid) is an internal error and answers 500 instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import msgspec

from ferroweb._ferroweb import ContentKind, ResponseAlreadySent
from ferroweb._pydantic import encode_fallback
from ferroweb._streaming import ChunkSource, send_stream
from ferroweb.datastructures import MutableHeaders
from ferroweb.exceptions import HTTPException, RequestValidationError
from ferroweb.responses import FileResponse, Response, StreamingResponse

if TYPE_CHECKING:
    import asyncio

    from ferroweb._ferroweb import RawRequest
    from ferroweb._waits import Waits
    from ferroweb.routing import Route

logger = logging.getLogger("ferroweb.error")

_encode_json = msgspec.json.Encoder(enc_hook=encode_fallback).encode
_NO_BODY_STATUSES = frozenset({204, 205, 304})
_JSON = ContentKind.JSON
_TEXT = ContentKind.TEXT
_OCTET_STREAM = ContentKind.OCTET_STREAM
_UNSPECIFIED = ContentKind.UNSPECIFIED

#: ``on_error(raw, exc, route)``: maps an exception to an outcome (user exception handlers,
#: problems, 500s) and sends it back through ``send``.
ErrorHandler = Callable[["RawRequest", Exception, "Route | None"], None]
#: ``on_failure(raw, exc, route)``: logs an internal error and answers 500.
FailureHandler = Callable[["RawRequest", BaseException, "Route | None"], None]


class Problem:
    """An RFC 9457 problem response; the core renders its body (``type``, ``title``,
    ``status``, ``detail``, ``instance``, plus ``extensions`` such as validation ``errors``)."""

    __slots__ = ("detail", "extensions", "headers", "status")

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extensions = extensions

    @classmethod
    def from_exception(cls, exc: HTTPException) -> Problem:
        detail = exc.detail
        extensions: dict[str, Any] = {}
        if isinstance(exc, RequestValidationError):
            extensions["errors"] = exc.errors
        if detail is not None and not isinstance(detail, str):
            # structured details are sent as they are, in the `detail` member
            extensions["detail"] = detail
            detail = None
        return cls(exc.status_code, detail, exc.headers, extensions or None)

    def __repr__(self) -> str:
        return f"Problem({self.status}, {self.detail!r})"


#: What an internal error answers with.
INTERNAL_ERROR = Problem(500)


class ResponseParameter(Response):
    """What a ``response: Response`` parameter receives (FastAPI's idiom): headers and cookies
    set on it, and a status assigned to it, are applied to the response made from the
    handler's return value. A handler that returns a ``Response`` of its own sends that one
    as it is."""

    def __init__(self) -> None:
        # None until the handler assigns one: the route's status is used then.
        self.status_code = None  # type: ignore[assignment]
        self.body = b""
        self.headers = MutableHeaders()


class Answered:
    """A return value together with the route's ``response: Response`` parameter."""

    __slots__ = ("parameter", "result")

    def __init__(self, result: Any, parameter: ResponseParameter) -> None:
        self.result = result
        self.parameter = parameter


class Responder:
    """Sends the outcomes of one app's requests, on one event loop."""

    __slots__ = ("_executor", "_loop", "_track", "_waits", "event_streams", "on_error", "on_failure")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        waits: Waits,
        executor: Callable[[], Executor],
        track: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        self._loop = loop
        self._waits = waits
        self._executor = executor
        self._track = track
        #: Server-Sent Event streams in progress: ended cleanly at shutdown.
        self.event_streams: set[asyncio.Task[None]] = set()
        self.on_error: ErrorHandler = _unwired
        self.on_failure: FailureHandler = _unwired

    def send(
        self,
        raw: RawRequest,
        result: Any,
        status: int = 200,
        route: Route | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        """Answers ``raw`` with ``result``: the common types first, by exact class. ``headers``
        (from a ``response: Response`` parameter) go with a plain return value's answer."""
        cls = result.__class__
        try:
            if status in _NO_BODY_STATUSES and not isinstance(result, (Response, Problem, Answered)):
                raw.respond(status, b"", _UNSPECIFIED, headers)
            elif cls is dict or cls is list:
                raw.respond(status, _encode_json(result), _JSON, headers)
            elif cls is str:
                raw.respond(status, result, _TEXT, headers)
            elif isinstance(result, Response):
                self._send_response(raw, result, route)
            elif cls is bytes:
                raw.respond(status, result, _OCTET_STREAM, headers)
            elif cls is Problem:
                extensions = result.extensions
                problem_headers = result.headers
                raw.respond_problem(
                    result.status,
                    result.detail,
                    list(problem_headers.items()) if problem_headers else None,
                    _encode_json(extensions) if extensions else None,
                )
            elif cls is Answered:
                self._send_answered(raw, result, status, route)
            else:
                # None -> null; Structs, dataclasses, tuples, datetimes... as msgspec encodes them.
                raw.respond(status, _encode_json(result), _JSON, headers)
        except ResponseAlreadySent:
            logger.warning(
                "A second response for %s %s was dropped (%s)", raw.method, raw.path, type(result).__name__
            )
        except Exception as exc:  # e.g. a value msgspec cannot encode, a bad header
            if result is INTERNAL_ERROR:
                logger.error("Could not send the 500 response for %s %s", raw.method, raw.path, exc_info=exc)
            else:
                self.on_failure(raw, exc, route)

    def as_response(
        self,
        raw: RawRequest,
        result: Any,
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        """What ``send`` would send for ``result``, as a ``Response`` (for ``on_response``
        hooks and ``http`` middleware, which see the answer before it leaves). Raises what
        ``send`` would turn into a 500: a value msgspec cannot encode, for one."""
        cls = result.__class__
        if cls is Answered:
            inner, parameter = result.result, result.parameter
            if isinstance(inner, (Response, Problem)):
                return self.as_response(raw, inner, status)
            chosen = parameter.status_code
            return self.as_response(
                raw, inner, status if chosen is None else chosen, parameter.headers._items or None
            )
        if isinstance(result, Response):
            return result
        if cls is Problem:
            extensions = result.extensions
            body = raw.render_problem(
                result.status, result.detail, _encode_json(extensions) if extensions else None
            )
            response = Response(body, result.status, result.headers, "application/problem+json")
            return response
        if status in _NO_BODY_STATUSES:
            body, media_type = b"", None
        elif cls is str:
            body, media_type = result.encode(), "text/plain; charset=utf-8"
        elif cls is bytes:
            body, media_type = result, "application/octet-stream"
        else:
            body, media_type = _encode_json(result), "application/json"
        response = Response(body, status)
        items = response.headers._items
        if headers:
            items.extend(headers)
        if media_type is not None and not any(name == "content-type" for name, _ in items):
            items.append(("content-type", media_type))
        return response

    def _send_answered(self, raw: RawRequest, answered: Answered, status: int, route: Route | None) -> None:
        result, parameter = answered.result, answered.parameter
        if isinstance(result, (Response, Problem)):
            self.send(raw, result, status, route)  # the handler's own response, as it is
            return
        chosen = parameter.status_code
        self.send(raw, result, status if chosen is None else chosen, route, parameter.headers._items or None)

    def _send_response(self, raw: RawRequest, response: Response, route: Route | None) -> None:
        if isinstance(response, StreamingResponse):
            self._start_stream(raw, response, route)
        elif isinstance(response, FileResponse):
            headers = [(k, v) for k, v in response.headers._items if k != "content-type"]
            raw.respond_file(
                response.status_code, response.path, headers, response.file_media_type, response.filename
            )
        else:
            body = b"" if response.status_code in _NO_BODY_STATUSES else response.body
            # the header list is only read by Rust, so it is passed without a copy
            raw.respond(response.status_code, body, _UNSPECIFIED, response.headers._items)

    def _start_stream(self, raw: RawRequest, response: StreamingResponse, route: Route | None) -> None:
        source = ChunkSource(response.body_iterator, self._loop, self._executor)
        on_error = self.on_error

        def stream_failed(raw: RawRequest, exc: Exception) -> None:
            on_error(raw, exc, route)

        where = (route.name if route is not None else None) or "-"
        task = self._track(send_stream(raw, response, self._waits, source, stream_failed, where))
        if response.send_head_early:
            self.event_streams.add(task)
            task.add_done_callback(self.event_streams.discard)

    def end_event_streams(self) -> None:
        """Ends every Server-Sent Events stream cleanly (shutdown: clients reconnect)."""
        for task in list(self.event_streams):
            task.cancel()


def _unwired(raw: RawRequest, exc: BaseException, route: Route | None) -> None:
    raise RuntimeError("the responder's error handling was not wired up") from exc
