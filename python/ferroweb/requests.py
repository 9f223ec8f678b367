"""The request object handlers ask for. Every attribute is read lazily from the Rust view."""

from __future__ import annotations

from http.cookies import _unquote
from typing import TYPE_CHECKING, Any

import msgspec

from ferroweb.datastructures import Address, Headers, QueryParams, State
from ferroweb.exceptions import HTTPException

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb.security import Session


def parse_cookie_header(header: str) -> dict[str, str]:
    """Cookie header -> dict, tolerant of the malformed pairs browsers send; last one wins."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        name = name.strip()
        if not sep and not name:
            continue
        if not sep:
            # "flag" without "=" is a value with an empty name, as browsers treat it.
            name, value = "", name
        cookies[name] = _unquote(value.strip())
    return cookies


class URL:
    """The request URL as the client sent it, split into its parts."""

    __slots__ = ("netloc", "path", "query", "scheme")

    def __init__(self, scheme: str, netloc: str, path: str, query: str) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.path = path
        self.query = query

    @property
    def hostname(self) -> str:
        return self.netloc.rsplit(":", 1)[0] if self.netloc.count(":") == 1 else self.netloc

    def __str__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.netloc}{self.path}{query}"

    def __repr__(self) -> str:
        return f"URL({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class Request:
    """An HTTP request. Cheap to create: nothing is converted until it is read."""

    __slots__ = (
        "_auth",
        "_body",
        "_cookies",
        "_headers",
        "_json",
        "_param_names",
        "_path_params",
        "_query",
        "_raw",
        "_session",
        "app",
    )

    def __init__(self, raw: RawRequest, param_names: tuple[str, ...] = (), app: Any = None) -> None:
        self._raw = raw
        self._param_names = param_names
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._path_params: dict[str, str] | None = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._auth: Any = _UNSET
        self._session: Session | None = None
        self.app = app

    @property
    def method(self) -> str:
        return self._raw.method

    @property
    def path(self) -> str:
        return self._raw.path

    @property
    def query_string(self) -> str:
        return self._raw.query_string

    @property
    def http_version(self) -> str:
        return self._raw.http_version

    @property
    def url(self) -> URL:
        host = self._raw.header("host") or "localhost"
        return URL(self._raw.scheme, host, self._raw.path, self._raw.query_string)

    @property
    def path_params(self) -> dict[str, str]:
        if self._path_params is None:
            self._path_params = dict(zip(self._param_names, self._raw.path_params(), strict=False))
        return self._path_params

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            self._query = QueryParams(self._raw.query_params())
        return self._query

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(self._raw.headers())
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            cookie_headers = self.headers.getlist("cookie")
            self._cookies = parse_cookie_header("; ".join(cookie_headers))
        return self._cookies

    @property
    def client(self) -> Address | None:
        peer = self._raw.client()
        return Address(*peer) if peer is not None else None

    @property
    def auth(self) -> dict[str, Any] | None:
        """The validated claims of the request's credentials, checked by the route's
        ``auth=`` scheme: a JWT's payload, ``{"sub": subject}`` for an API key. None on a
        public route."""
        if self._auth is _UNSET:
            found = self._raw.auth()
            self._auth = msgspec.json.decode(found[0]) if found is not None else None
        claims: dict[str, Any] | None = self._auth
        return claims

    @property
    def session(self) -> Session:
        """The client's session (the route needs ``ferroweb.security.Sessions``): a dict of
        JSON values; changes are written back with the response."""
        if self._session is None:
            from ferroweb.security import session_of

            self._session = session_of(self._raw)
        return self._session

    @property
    def state(self) -> State:
        """This request's own attribute bag, shared by its hooks, middleware, dependencies and
        handler; it starts with what the lifespan yielded (``app.state`` is the app-wide one)."""
        return self._raw.state(self._new_state)

    def _new_state(self) -> State:
        app = self.app
        return State(getattr(app, "lifespan_state", None))

    async def body(self) -> bytes:
        if self._body is None:
            self._body = self._raw.body()
        return self._body

    async def text(self) -> str:
        return (await self.body()).decode("utf-8", errors="replace")

    async def json(self) -> Any:
        """The body decoded as JSON; malformed JSON ends the request with a 400 problem."""
        if self._json is _UNSET:
            try:
                self._json = msgspec.json.decode(await self.body())
            except msgspec.DecodeError as exc:
                raise HTTPException(400, detail=f"Malformed JSON body: {exc}") from exc
        return self._json

    async def is_disconnected(self) -> bool:
        return self._raw.is_disconnected()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


_UNSET: Any = object()
