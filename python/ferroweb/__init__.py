"""ferroweb: a Python web framework whose HTTP engine is Rust."""

from ferroweb import background
from ferroweb._ferroweb import __version__
from ferroweb.applications import App
from ferroweb.background import BackgroundTasks
from ferroweb.config import BackgroundConfig, ServerConfig
from ferroweb.datastructures import Address, Headers, MutableHeaders, QueryParams, State
from ferroweb.dependencies import Depends
from ferroweb.exceptions import HTTPException, RequestValidationError, ResponseValidationError
from ferroweb.params import Body, Cookie, File, Form, Header, Path, Query
from ferroweb.requests import URL, Request
from ferroweb.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from ferroweb.routing import Route, Router
from ferroweb.uploads import UploadFile
from ferroweb.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = [
    "URL",
    "Address",
    "App",
    "BackgroundConfig",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "HTMLResponse",
    "HTTPException",
    "Header",
    "Headers",
    "JSONResponse",
    "MutableHeaders",
    "Path",
    "PlainTextResponse",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "ResponseValidationError",
    "Route",
    "Router",
    "ServerConfig",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
    "__version__",
    "background",
]
