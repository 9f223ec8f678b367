"""ferroweb: a Python web framework whose HTTP engine is Rust."""

from ferroweb._ferroweb import __version__
from ferroweb.applications import App
from ferroweb.config import ServerConfig
from ferroweb.datastructures import Address, Headers, MutableHeaders, QueryParams, State
from ferroweb.exceptions import HTTPException, RequestValidationError
from ferroweb.requests import URL, Request
from ferroweb.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from ferroweb.routing import Route, Router

__all__ = [
    "URL",
    "Address",
    "App",
    "HTMLResponse",
    "HTTPException",
    "Headers",
    "JSONResponse",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Route",
    "Router",
    "ServerConfig",
    "State",
    "__version__",
]
