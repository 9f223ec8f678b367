"""Exceptions a handler raises to answer with an error."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any


class HTTPException(Exception):
    """Ends the request with ``status_code`` as an RFC 9457 problem+json response.

    ``detail`` is the problem's human-readable detail; a non-string value (a dict, a list) is
    sent as-is in the ``detail`` member.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not 100 <= status_code <= 999:
            raise ValueError(f"invalid HTTP status code {status_code}")
        self.status_code = status_code
        if detail is None:
            try:
                detail = HTTPStatus(status_code).phrase
            except ValueError:
                detail = None
        self.detail = detail
        self.headers = dict(headers) if headers else None
        super().__init__(status_code, detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"


class RequestValidationError(HTTPException):
    """The request did not match the handler's declared parameters (422), or its body could not
    be parsed at all (400).

    ``errors`` lists every problem found, each ``{"type", "loc", "msg", "input"}`` plus ``ctx``
    where the error has parameters (see docs/validation-errors.md).
    """

    def __init__(
        self,
        errors: list[dict[str, Any]],
        status_code: int = 422,
        detail: str = "Request validation failed",
    ) -> None:
        super().__init__(status_code, detail=detail)
        self.errors = errors


class ResponseValidationError(ValueError):
    """A handler returned a value that does not match its declared response model: a bug in the
    handler, answered with 500 and logged."""
