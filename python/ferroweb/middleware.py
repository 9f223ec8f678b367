"""HTTP middleware that runs in the Rust core, without the GIL, configured here.

Give a list to ``App(middleware=...)``, ``Router(middleware=...)`` or a route decorator. A
route's entry replaces an app or router entry of the same class; each route's effective
stack is computed once, at start-up. Whatever order the list is written in, the core applies
them in one fixed order, outermost first:

    TrustedHosts -> CORS -> SecurityHeaders -> Compression -> RateLimit -> auth
        -> BodyLimit -> Timeout -> handler

so a refused host never reaches CORS, a preflight is neither counted nor authenticated and
never reaches the handler, security headers and CORS headers are on every answer (errors and
429/401 refusals included), and compression sees the final body. (``RateLimit(key="auth")``
runs after authentication, since it counts by the authenticated subject.)
A route with no middleware costs exactly what it cost before.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

from ferroweb._ferroweb import (
    CompressionPolicy,
    CorsPolicy,
    MiddlewareStack,
    RateLimitPolicy,
    SecurityHeadersPolicy,
    TrustedHostsPolicy,
)
from ferroweb.exceptions import HTTPException

if TYPE_CHECKING:
    from ferroweb._ferroweb import ApiKeyScheme, JwtScheme

__all__ = [
    "CORS",
    "BodyLimit",
    "Compression",
    "Middleware",
    "RateLimit",
    "SecurityHeaders",
    "Timeout",
    "TrustedHosts",
]

#: ``SecurityHeaders(hsts=True)``: two years, subdomains included (what browsers' preload lists ask).
DEFAULT_HSTS: Final = "max-age=63072000; includeSubDomains"


def _strings(value: Iterable[str], name: str) -> list[str]:
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, not a single string (write [{value!r}])")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must contain strings, got {type(item).__name__}")
    return items


class Middleware(abc.ABC):
    """Base of the middleware classes; each contributes one part of a route's stack."""

    __slots__ = ()

    @abc.abstractmethod
    def _stack_entry(self) -> dict[str, Any]:
        """This middleware's arguments of the core's ``MiddlewareStack``."""

    def __repr__(self) -> str:
        names: tuple[str, ...] = self.__slots__
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names if not name.startswith("_"))
        return f"{type(self).__name__}({fields})"


class CORS(Middleware):
    """Cross-origin resource sharing, with Starlette's meaning of each argument.

    - ``allow_origins``: origins allowed (``["*"]``: any); ``allow_origin_regex`` matches the
      whole origin (e.g. ``r"https://.*\\.example\\.com"``).
    - ``allow_methods`` / ``allow_headers``: what a preflight may ask for (``"*"``: any); the
      CORS-safelisted headers (Accept, Accept-Language, Content-Language, Content-Type) are
      always allowed.
    - ``allow_credentials``: cookies and auth may be sent; the allowed origin is then echoed,
      never ``*``.
    - ``expose_headers``: response headers browsers may read; ``max_age``: seconds a browser
      may cache a preflight answer.

    Preflights are answered by the core (204, or 400 without any ``Access-Control-Allow-*``
    header when the origin, method or a header is not allowed); the handler is not called.
    Other responses to an allowed origin, errors included, carry the allow/expose/credentials
    headers, and ``Vary: Origin`` whenever the answer depends on the origin.
    """

    __slots__ = (
        "_policy",
        "allow_credentials",
        "allow_headers",
        "allow_methods",
        "allow_origin_regex",
        "allow_origins",
        "expose_headers",
        "max_age",
    )

    def __init__(
        self,
        allow_origins: Sequence[str] = (),
        allow_origin_regex: str | None = None,
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        self.allow_origins = tuple(_strings(allow_origins, "allow_origins"))
        self.allow_origin_regex = allow_origin_regex
        self.allow_methods = tuple(_strings(allow_methods, "allow_methods"))
        self.allow_headers = tuple(_strings(allow_headers, "allow_headers"))
        self.allow_credentials = bool(allow_credentials)
        self.expose_headers = tuple(_strings(expose_headers, "expose_headers"))
        if not isinstance(max_age, int) or max_age < 0:
            raise ValueError(f"max_age must be a number of seconds >= 0, got {max_age!r}")
        self.max_age = max_age
        self._policy = CorsPolicy(
            list(self.allow_origins),
            allow_origin_regex,
            list(self.allow_methods),
            list(self.allow_headers),
            self.allow_credentials,
            list(self.expose_headers),
            max_age,
        )

    def _stack_entry(self) -> dict[str, Any]:
        return {"cors": self._policy}


class Compression(Middleware):
    """Compresses responses with gzip, brotli or zstd, as ``Accept-Encoding`` prefers.

    Bodies smaller than ``minimum_size`` bytes are sent as they are; streams (size unknown)
    are compressed as they stream, each chunk flushed. Never compressed: ``text/event-stream``,
    images, audio, video, fonts and archives, responses that already have a
    ``Content-Encoding``, ``Cache-Control: no-transform`` and ranges. ``level`` is each
    algorithm's own scale (gzip 0-9, brotli 0-11, zstd 1-22; clamped); ``None`` picks the
    on-the-fly defaults: gzip 1 (as nginx; complete bodies go through libdeflate, whose level
    1 makes JSON about as small as zlib's 4), brotli 4, zstd 3. Responses get
    ``Vary: Accept-Encoding``.
    """

    __slots__ = ("_policy", "brotli", "gzip", "level", "minimum_size", "zstd")

    def __init__(
        self,
        minimum_size: int = 500,
        gzip: bool = True,
        brotli: bool = True,
        zstd: bool = True,
        level: int | None = None,
    ) -> None:
        if not isinstance(minimum_size, int) or minimum_size < 0:
            raise ValueError(f"minimum_size must be a number of bytes >= 0, got {minimum_size!r}")
        self.minimum_size = minimum_size
        self.gzip, self.brotli, self.zstd = bool(gzip), bool(brotli), bool(zstd)
        self.level = level
        self._policy = CompressionPolicy(minimum_size, self.gzip, self.brotli, self.zstd, level)

    def _stack_entry(self) -> dict[str, Any]:
        return {"compression": self._policy}


class Timeout(Middleware):
    """Answers ``status_code`` (408 unless told) with a problem+json when the handler has not
    started its response within ``seconds``.

    An async handler is then cancelled at its current ``await`` (its ``finally`` runs); a sync
    handler cannot be interrupted, so its late result is discarded and logged. For a stream
    the timeout covers the time until the handler starts it. Background tasks are not affected.
    """

    __slots__ = ("seconds", "status_code")

    def __init__(self, seconds: float, status_code: int = 408) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
            raise ValueError(f"Timeout needs a positive number of seconds, got {seconds!r}")
        if not isinstance(status_code, int) or not 400 <= status_code <= 599:
            raise ValueError(f"Timeout status_code must be a 4xx or 5xx status, got {status_code!r}")
        self.seconds = float(seconds)
        self.status_code = status_code

    def _stack_entry(self) -> dict[str, Any]:
        return {"timeout": self.seconds, "timeout_status": self.status_code}


class TrustedHosts(Middleware):
    """Answers 400 to requests whose ``Host`` is not one of ``allowed_hosts``.

    ``"example.com"`` is that host, ``"*.example.com"`` any of its subdomains (not the domain
    itself), ``"*"`` any host. With ``www_redirect=True``, a request for ``example.com`` is
    redirected (301) to ``www.example.com`` when that is an allowed host. Independently of this,
    every request must carry exactly one valid ``Host`` (HTTP/1.1), or it gets 400.
    """

    __slots__ = ("_policy", "allowed_hosts", "www_redirect")

    def __init__(self, allowed_hosts: Sequence[str], www_redirect: bool = False) -> None:
        self.allowed_hosts = tuple(_strings(allowed_hosts, "allowed_hosts"))
        self.www_redirect = bool(www_redirect)
        self._policy = TrustedHostsPolicy(list(self.allowed_hosts), self.www_redirect)

    def _stack_entry(self) -> dict[str, Any]:
        return {"trusted_hosts": self._policy}


class SecurityHeaders(Middleware):
    """Adds security headers to every response that does not set them itself.

    - ``hsts``: ``Strict-Transport-Security`` (``True``: two years with subdomains; a string:
      that value; ``None``/``False``: off). Sent only on responses to HTTPS requests.
    - ``content_type_options``: ``X-Content-Type-Options: nosniff``.
    - ``frame_options`` (``X-Frame-Options``), ``referrer_policy`` (``Referrer-Policy``),
      ``csp`` (``Content-Security-Policy``), ``permissions_policy`` (``Permissions-Policy``),
      ``cross_origin_opener_policy`` (``Cross-Origin-Opener-Policy``): the value, or ``None``
      for none.
    """

    __slots__ = (
        "_policy",
        "content_type_options",
        "cross_origin_opener_policy",
        "csp",
        "frame_options",
        "hsts",
        "permissions_policy",
        "referrer_policy",
    )

    def __init__(
        self,
        hsts: str | bool | None = True,
        content_type_options: bool = True,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        csp: str | None = None,
        permissions_policy: str | None = None,
        cross_origin_opener_policy: str | None = None,
    ) -> None:
        if hsts is True:
            hsts = DEFAULT_HSTS
        elif hsts is False:
            hsts = None
        self.hsts = hsts
        self.content_type_options = bool(content_type_options)
        self.frame_options = frame_options
        self.referrer_policy = referrer_policy
        self.csp = csp
        self.permissions_policy = permissions_policy
        self.cross_origin_opener_policy = cross_origin_opener_policy
        self._policy = SecurityHeadersPolicy(
            hsts,
            self.content_type_options,
            frame_options,
            referrer_policy,
            csp,
            permissions_policy,
            cross_origin_opener_policy,
        )

    def _stack_entry(self) -> dict[str, Any]:
        return {"security_headers": self._policy}


class BodyLimit(Middleware):
    """The largest request body this route accepts, in bytes (replacing
    ``ServerConfig.max_body_size`` for it). Larger bodies get 413 problem+json and the handler is
    not called; a declared ``Content-Length`` over the limit (``Expect: 100-continue`` included)
    is refused before any of the body is read."""

    __slots__ = ("max_bytes",)

    def __init__(self, max_bytes: int) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise ValueError(f"BodyLimit needs a number of bytes >= 0, got {max_bytes!r}")
        self.max_bytes = max_bytes

    def _stack_entry(self) -> dict[str, Any]:
        return {"body_limit": self.max_bytes}


class RateLimit(Middleware):
    """Limits how often each client may call, in Rust: GCRA (the governor crate).

    - ``rate``: ``"10/second"``, ``"100/minute"``, ``"5000/hour"``, ``"1/day"`` (also
      ``"30/5 minutes"``): requests pass every period/count on average, in bursts of up to
      ``burst`` (default: the count) at once.
    - ``key``: what counts as one client. ``"ip"``: the peer address, or, only when the peer is
      one of ``trusted_proxies`` (addresses or CIDRs), the right-most address of
      ``X-Forwarded-For`` / ``Forwarded`` that is not a trusted proxy. ``"header:X-API-Key"``:
      that header's value. ``"auth"``: the authenticated subject (``sub``; the limit then
      runs after authentication). Requests without the header or subject count by address.
      A function ``key(request) -> str | None`` (sync or ``async def``) works out the key in
      Python: it costs a Python call per request, runs as the route's first hook (after
      authentication, so ``request.auth`` is there; HTTP routes only), counts in memory only,
      and None counts by address.

    One ``RateLimit`` object is one budget: given to the app or a router, all their routes
    draw on the same budget per client; give a route its own ``RateLimit`` for a separate one.
    Every response of a limited route carries ``RateLimit-Limit`` (the burst),
    ``RateLimit-Remaining`` and ``RateLimit-Reset`` (seconds until the full burst is back);
    a refusal is 429 problem+json with ``Retry-After``. CORS preflights are not counted.

    Counters live in the process's memory, or with ``store="redis://host:6379/0"`` in Redis,
    shared by every worker process and machine using it (one atomic Lua script per request,
    on Redis's clock). Each Redis call is bounded by ``timeout`` seconds; when Redis cannot
    answer, ``fail_open=True`` lets requests through (logged at most once a minute) and
    ``fail_open=False`` answers 503 with ``Retry-After: 1``; after a failure Redis is left
    alone for a second. Keys are ``ferroweb:ratelimit:<name>:<client>``: ``name`` defaults
    to the rate, burst and key, plus a count when several limits share those, so each
    worker of the same app finds the same counters; set it to pin one explicitly.
    """

    __slots__ = (
        "_policy",
        "burst",
        "fail_open",
        "key",
        "name",
        "rate",
        "store",
        "timeout",
        "trusted_proxies",
    )

    #: How many limits of each (rate, burst, key) were made, for default Redis names.
    _made: ClassVar[dict[tuple[str, int | None, str], int]] = {}

    def __init__(
        self,
        rate: str,
        burst: int | None = None,
        key: str | Callable[[Any], Any] = "ip",
        trusted_proxies: Sequence[str] = (),
        store: str | None = None,
        fail_open: bool = True,
        timeout: float = 0.25,
        name: str | None = None,
    ) -> None:
        if not isinstance(rate, str):
            raise TypeError(f"rate must be a string such as '10/second', not {type(rate).__name__}")
        if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int) or burst < 1):
            raise ValueError(f"burst must be a whole number >= 1, got {burst!r}")
        if not isinstance(key, str) and not callable(key):
            raise TypeError(
                f"key must be 'ip', 'auth', 'header:<name>' or a function, not {type(key).__name__}"
            )
        if callable(key) and store is not None:
            raise ValueError("a key function counts in this process's memory: it cannot be used with store=")
        self.rate = rate
        self.burst = burst
        self.key = key
        self.trusted_proxies = tuple(_strings(trusted_proxies, "trusted_proxies"))
        if store is not None and not isinstance(store, str):
            raise TypeError(f"store must be a redis:// URL or None, not {type(store).__name__}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.store, self.fail_open, self.timeout = store, bool(fail_open), float(timeout)
        core_key = key if isinstance(key, str) else "ip"
        if name is None:
            shape = (rate, burst, core_key if isinstance(key, str) else f"function:{key!r}")
            count = RateLimit._made.get(shape, 0)
            RateLimit._made[shape] = count + 1
            name = f"{rate}|{burst}|{core_key}" + (f"|{count}" if count else "")
        self.name = name
        self._policy = RateLimitPolicy(
            rate,
            burst,
            core_key,
            list(self.trusted_proxies),
            store=store,
            namespace=f"ferroweb:ratelimit:{name}",
            timeout=self.timeout,
            fail_open=self.fail_open,
        )

    def _stack_entry(self) -> dict[str, Any]:
        # a key function counts in Python (``python_hooks``), not in the core
        return {"rate_limit": self._policy} if isinstance(self.key, str) else {}

    def python_hooks(self) -> tuple[Callable[[Any], Any], Callable[[Any, Any], Any]] | None:
        """For a key function: the ``on_request`` hook that counts and the ``on_response``
        hook that adds the headers (None for the core's keys)."""
        key_of = self.key
        if isinstance(key_of, str):
            return None
        policy = self._policy

        def decide(request: Any, key: Any) -> None:
            if key is None:
                client = request.client
                key = f"ip:{client.host if client is not None else 'unknown'}"
            else:
                key = f"fn:{key}"
            answer = policy.count(key)
            assert answer is not None  # a key function counts in memory
            allowed, limit, remaining, reset, retry = answer
            headers = {
                "RateLimit-Limit": str(limit),
                "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": str(reset),
            }
            if not allowed:
                headers["Retry-After"] = str(retry)
                raise HTTPException(429, f"rate limit exceeded; retry in {retry} s", headers=headers)
            request.state.ferroweb_rate_limit_headers = headers

        if inspect.iscoroutinefunction(key_of):

            async def count_async(request: Any) -> None:
                decide(request, await key_of(request))

            count: Callable[[Any], Any] = count_async
        else:

            def count_sync(request: Any) -> None:
                decide(request, key_of(request))

            count = count_sync

        def add_headers(request: Any, response: Any) -> Any:
            headers = getattr(request.state, "ferroweb_rate_limit_headers", None)
            if headers:
                response.headers.update(headers)
            return response

        return count, add_headers

    def __repr__(self) -> str:
        # a store URL's password stays out of reprs (and so out of logs)
        store = self.store
        if store is not None and "@" in store:
            scheme, _, rest = store.partition("://")
            store = f"{scheme}://***@{rest.rpartition('@')[2]}"
        return (
            f"RateLimit(rate={self.rate!r}, burst={self.burst!r}, key={self.key!r},"
            f" store={store!r}, fail_open={self.fail_open!r})"
        )


# -- resolution (start-up only) -----------------------------------------------------------------


def check_list(middleware: Iterable[Middleware] | None, where: str) -> tuple[Middleware, ...]:
    """A declared ``middleware=`` list, checked: middleware objects, one of each class."""
    if middleware is None:
        return ()
    if isinstance(middleware, Middleware):
        example = f"middleware=[{type(middleware).__name__}(...)]"
        raise TypeError(f"{where}: middleware= takes a list, e.g. {example}")
    items = tuple(middleware)
    seen: set[type[Middleware]] = set()
    for item in items:
        if not isinstance(item, Middleware):
            raise TypeError(f"{where}: {item!r} is not a ferroweb.middleware class instance")
        if type(item) in seen:
            raise ValueError(f"{where}: {type(item).__name__} is given twice")
        seen.add(type(item))
    return items


def merge(outer: Sequence[Middleware], inner: Sequence[Middleware]) -> tuple[Middleware, ...]:
    """``inner``'s entries, plus ``outer``'s of classes ``inner`` does not have."""
    if not outer:
        return tuple(inner)
    classes = {type(item) for item in inner}
    return tuple(item for item in outer if type(item) not in classes) + tuple(inner)


def core_stack(
    middleware: Sequence[Middleware], auth: Sequence[JwtScheme | ApiKeyScheme] = ()
) -> MiddlewareStack | None:
    """The core's form of an effective stack and authentication schemes (None when both are
    empty)."""
    if not middleware and not auth:
        return None
    entries: dict[str, Any] = {}
    for item in middleware:
        entries.update(item._stack_entry())
    if auth:
        entries["auth"] = list(auth)
    return MiddlewareStack(**entries)


def timeout_of(middleware: Sequence[Middleware]) -> Timeout | None:
    for item in middleware:
        if isinstance(item, Timeout):
            return item
    return None
