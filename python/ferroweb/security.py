"""Authentication, checked by the Rust core before a request reaches Python.

Give a scheme (or a list, any one of which suffices) to ``App(auth=...)``,
``Router(auth=...)`` or a route decorator; ``auth=None`` on a route makes it public. A route
that states nothing inherits its router's, then the app's. The handler reads the validated
claims as ``request.auth``; a parameter annotated with a JWT scheme's ``claims_type`` receives
them decoded into that type.

Refusals are 401 problem+json with one ``WWW-Authenticate`` challenge per scheme (RFC 6750
``error="invalid_token"`` and a description for bearer tokens), or 403 with
``error="insufficient_scope"`` when a valid token lacks a required scope. The token or key
never appears in the problem body or in logs.

``Sessions`` and ``CSRF`` are middleware (``middleware=[Sessions(...), CSRF(...)]``), also
run by the core.

Authentication runs after TrustedHosts and CORS (so preflights need no credentials and
refusals carry the CORS headers) and applies to the routes of the app, not to static mounts
or to requests that match no route (those stay 404/405).
"""

from __future__ import annotations

import abc
import hashlib
import inspect
import os
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import msgspec

from ferroweb._ferroweb import ApiKeyScheme, CsrfPolicy, JwtScheme, SessionPolicy
from ferroweb.exceptions import HTTPException
from ferroweb.middleware import Middleware

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest

__all__ = ["CSRF", "APIKeyAuth", "AuthScheme", "JWTAuth", "Session", "Sessions"]

#: Every algorithm JWTAuth knows; each key only ever verifies the ones of its own family.
JWT_ALGORITHMS: Final = (
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "EdDSA",
)

#: Tokens longer than this are refused before any decoding (a JWT with a few dozen claims is
#: well under 2 KiB; proxies commonly cap a header at 8 KiB).
DEFAULT_MAX_TOKEN_BYTES: Final = 8192


def _names(value: str | Sequence[str] | None, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} must contain strings, got {type(item).__name__}")
    return items


def _key_bytes(value: str | bytes, name: str) -> bytes:
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"{name} must be str or bytes, not {type(value).__name__}")


class AuthScheme(abc.ABC):
    """Base of the authentication schemes."""

    __slots__ = ()

    #: The type a handler parameter may be annotated with to receive the claims decoded.
    claims_type: Any = None

    @property
    @abc.abstractmethod
    def _core(self) -> JwtScheme | ApiKeyScheme:
        """The core's form of this scheme."""

    @abc.abstractmethod
    def openapi_scheme(self) -> dict[str, Any]:
        """This scheme as an OpenAPI ``securitySchemes`` entry."""


class JWTAuth(AuthScheme):
    """Bearer JSON Web Tokens, verified in Rust (the jsonwebtoken crate).

    - Keys: exactly one of ``secret=`` (HMAC: HS256/384/512), ``public_key=`` (a PEM RSA, EC
      or Ed25519 public key), ``jwks_file=`` (a JSON Web Key Set; a token's ``kid`` picks
      the key) or ``jwks_url=`` (the issuer's key set, fetched by the core over http(s) with
      the system's CA certificates on first use and again when a token names an unknown
      ``kid``, never more often than every ``jwks_min_refresh`` seconds (60); each fetch
      bounded by ``jwks_timeout`` seconds; while none could be fetched, tokens are refused
      with 401). ``algorithms=`` narrows what is accepted (default: all of them); each key
      only verifies the algorithms of its own family, so ``alg: none`` and HS/RS confusion
      are refused whatever is listed.
    - Checks: the signature; ``exp`` and ``nbf`` whenever present (``leeway=`` seconds of
      clock skew); ``audience=`` / ``issuer=`` (a value or a list; when given, the claim is
      required); ``required_claims=`` (``exp`` unless told otherwise); ``scopes=`` (all
      must be granted by a space-separated ``scope`` claim or a list in ``scope`` or
      ``scp``; missing ones answer 403).
    - The token comes from ``Authorization: Bearer ...``, else from the cookie named by
      ``cookie=``. Tokens over ``max_token_bytes`` are refused undecoded.
    - ``claims_type=`` (a msgspec Struct, dataclass or TypedDict): a handler parameter of
      that type receives the claims decoded into it (a token whose claims do not fit is
      refused with 401).
    """

    __slots__ = (
        "_scheme",
        "algorithms",
        "audience",
        "claims_type",
        "cookie",
        "issuer",
        "leeway",
        "required_claims",
        "scopes",
    )

    def __init__(
        self,
        secret: str | bytes | None = None,
        *,
        public_key: str | bytes | None = None,
        jwks_file: str | os.PathLike[str] | None = None,
        jwks_url: str | None = None,
        jwks_timeout: float = 5.0,
        jwks_min_refresh: float = 60.0,
        algorithms: Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        leeway: int = 0,
        required_claims: Sequence[str] = ("exp",),
        scopes: Sequence[str] = (),
        cookie: str | None = None,
        claims_type: Any = None,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
    ) -> None:
        sources = (
            ("secret", secret),
            ("public_key", public_key),
            ("jwks_file", jwks_file),
            ("jwks_url", jwks_url),
        )
        given = [name for name, value in sources if value is not None]
        if len(given) != 1:
            raise ValueError(
                "JWTAuth needs exactly one of secret=, public_key=, jwks_file=, jwks_url="
                + (f" (got {', '.join(given)})" if given else "")
            )
        if isinstance(leeway, bool) or not isinstance(leeway, int) or leeway < 0:
            raise ValueError(f"leeway must be a whole number of seconds >= 0, got {leeway!r}")
        if isinstance(max_token_bytes, bool) or not isinstance(max_token_bytes, int) or max_token_bytes < 16:
            raise ValueError(f"max_token_bytes must be a number of bytes >= 16, got {max_token_bytes!r}")
        self.algorithms = (
            tuple(_names(algorithms, "algorithms")) if algorithms is not None else JWT_ALGORITHMS
        )
        self.audience = tuple(_names(audience, "audience"))
        self.issuer = tuple(_names(issuer, "issuer"))
        self.leeway = leeway
        self.required_claims = tuple(_names(required_claims, "required_claims"))
        self.scopes = tuple(_names(scopes, "scopes"))
        self.cookie = cookie
        self.claims_type = claims_type
        jwks = None
        if jwks_file is not None:
            try:
                with open(jwks_file, encoding="utf-8") as file:
                    jwks = file.read()
            except OSError as exc:
                raise ValueError(f"JWTAuth cannot read jwks_file {os.fspath(jwks_file)!r}: {exc}") from exc
        self._scheme = JwtScheme(
            secret=_key_bytes(secret, "secret") if secret is not None else None,
            public_key=_key_bytes(public_key, "public_key") if public_key is not None else None,
            jwks=jwks,
            jwks_url=jwks_url,
            jwks_timeout=float(jwks_timeout),
            jwks_min_refresh=float(jwks_min_refresh),
            algorithms=list(self.algorithms),
            audience=list(self.audience),
            issuer=list(self.issuer),
            leeway=leeway,
            required_claims=list(self.required_claims),
            scopes=list(self.scopes),
            cookie=cookie,
            max_token_bytes=max_token_bytes,
        )

    @property
    def _core(self) -> JwtScheme:
        return self._scheme

    def openapi_scheme(self) -> dict[str, Any]:
        if self.cookie is not None:
            return {"type": "apiKey", "in": "cookie", "name": self.cookie}
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

    def __repr__(self) -> str:
        # the keys stay out of reprs (and so out of logs)
        return (
            f"JWTAuth(algorithms={list(self.algorithms)!r}, audience={list(self.audience)!r},"
            f" scopes={list(self.scopes)!r})"
        )


class APIKeyAuth(AuthScheme):
    """API keys, read from a header, a query parameter or a cookie.

    ``keys``: the accepted keys, or a mapping of key to the subject it authenticates
    (``request.auth == {"sub": subject}``; for a plain list the subject is ``"key-<n>"``,
    n counting from 0, so the keys themselves never reach handlers or logs). They are
    compared in Rust, as SHA-256 digests in constant time. The key is read from ``header=``
    (default ``X-API-Key``), else ``query=``, else ``cookie=``; ``None`` turns a place off.

    ``verify=`` instead of ``keys``, for keys kept elsewhere (a database, a secrets store):
    ``verify(key)`` (sync or ``async def``) returns something false to refuse the key, a
    subject (``str``), a dict of claims (``request.auth``), or ``True`` (subject ``"api-key"``).
    Answers are cached per key for ``cache_seconds`` (refusals too; at most
    ``cache_size`` keys). It runs in Python before the route's hooks and handler, on HTTP
    routes (not on WebSocket routes, which take ``keys=``); ``RateLimit(key="auth")`` cannot
    see its subject and counts by address.
    """

    __slots__ = (
        "_cache",
        "_scheme",
        "cache_seconds",
        "cache_size",
        "cookie",
        "header",
        "query",
        "subjects",
        "verify",
    )

    def __init__(
        self,
        keys: Sequence[str] | Mapping[str, str] | None = None,
        *,
        verify: Callable[[str], Any] | None = None,
        header: str | None = "X-API-Key",
        query: str | None = None,
        cookie: str | None = None,
        cache_seconds: float = 60.0,
        cache_size: int = 10_000,
    ) -> None:
        if (keys is None) == (verify is None):
            raise ValueError("APIKeyAuth needs exactly one of keys= and verify=")
        if isinstance(keys, str):
            raise TypeError(f"keys must be a list of keys, not a single string (write [{keys!r}])")
        pairs: list[tuple[str, str]] | None = None
        if isinstance(keys, Mapping):
            pairs = [(key, subject) for key, subject in keys.items()]
        elif keys is not None:
            pairs = [(key, f"key-{index}") for index, key in enumerate(keys)]
        for key, subject in pairs or ():
            if not isinstance(key, str) or not isinstance(subject, str):
                raise TypeError("API keys and their subjects must be strings")
        if verify is not None and not callable(verify):
            raise TypeError("verify= must be a function verify(key)")
        if (
            isinstance(cache_seconds, bool)
            or not isinstance(cache_seconds, (int, float))
            or cache_seconds < 0
        ):
            raise ValueError(f"cache_seconds must be a number of seconds >= 0, got {cache_seconds!r}")
        self.header, self.query, self.cookie = header, query, cookie
        self.subjects = tuple(subject for _, subject in pairs or ())
        self.verify = verify
        self.cache_seconds, self.cache_size = float(cache_seconds), int(cache_size)
        self._cache: dict[bytes, tuple[float, dict[str, Any] | None]] = {}
        self._scheme = ApiKeyScheme(pairs, header=header, query=query, cookie=cookie)

    @property
    def _core(self) -> ApiKeyScheme:
        return self._scheme

    def openapi_scheme(self) -> dict[str, Any]:
        if self.header is not None:
            return {"type": "apiKey", "in": "header", "name": self.header}
        if self.query is not None:
            return {"type": "apiKey", "in": "query", "name": self.query}
        return {"type": "apiKey", "in": "cookie", "name": self.cookie}

    def _challenge(self) -> str:
        places = [
            f'{place}="{name.lower() if place == "header" else name}"'
            for place, name in (("header", self.header), ("query", self.query), ("cookie", self.cookie))
            if name is not None
        ]
        return "ApiKey " + ", ".join(places)

    def _cached(self, digest: bytes) -> tuple[bool, dict[str, Any] | None]:
        entry = self._cache.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def _remember(self, digest: bytes, answer: Any) -> dict[str, Any] | None:
        if isinstance(answer, Mapping):
            claims: dict[str, Any] | None = dict(answer)
        elif isinstance(answer, str):
            claims = {"sub": answer}
        else:
            claims = {"sub": "api-key"} if answer else None
        if self.cache_seconds > 0:
            if len(self._cache) >= self.cache_size:
                # the oldest entry first: dicts keep insertion order
                self._cache.pop(next(iter(self._cache)))
            self._cache[digest] = (time.monotonic() + self.cache_seconds, claims)
        return claims

    def __repr__(self) -> str:
        return (
            f"APIKeyAuth(subjects={list(self.subjects)!r}, header={self.header!r},"
            f" query={self.query!r}, cookie={self.cookie!r}, verify={self.verify!r})"
        )


def _is_async(function: Any) -> bool:
    """``async def`` functions, and objects whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(function) or (
        not inspect.isroutine(function) and inspect.iscoroutinefunction(type(function).__call__)
    )


def _refuse_key(scheme: APIKeyAuth) -> HTTPException:
    return HTTPException(401, "the API key is not valid", headers={"WWW-Authenticate": scheme._challenge()})


def verification_hook(route_auth: Sequence[AuthScheme]) -> Callable[[Any], Any] | None:
    """The ``on_request`` hook that runs the ``verify=`` of a route's API-key schemes (None
    when it has none): the core accepted the key provisionally; this settles it."""
    verifying = {
        position: scheme
        for position, scheme in enumerate(route_auth)
        if isinstance(scheme, APIKeyAuth) and scheme.verify is not None
    }
    if not verifying:
        return None

    def look_up(request: Any) -> tuple[APIKeyAuth, str, bytes, bool, dict[str, Any] | None] | None:
        """The scheme, key, digest and cached answer of the key the core left to check (None
        when another scheme accepted the request)."""
        found = request._raw.auth_credential()
        if found is None:
            return None
        key, position = found
        scheme = verifying[position]
        digest = hashlib.sha256(key.encode()).digest()
        return (scheme, key, digest, *scheme._cached(digest))

    def settle(request: Any, scheme: APIKeyAuth, claims: dict[str, Any] | None) -> None:
        if claims is None:
            raise _refuse_key(scheme)
        request._raw.set_verified_auth(msgspec.json.encode(claims))

    if not any(_is_async(scheme.verify) for scheme in verifying.values()):

        def verify_key(request: Any) -> None:
            found = look_up(request)
            if found is None:
                return
            scheme, key, digest, hit, claims = found
            if not hit:
                assert scheme.verify is not None
                claims = scheme._remember(digest, scheme.verify(key))
            settle(request, scheme, claims)

        return verify_key

    async def verify_key_async(request: Any) -> None:
        found = look_up(request)
        if found is None:
            return
        scheme, key, digest, hit, claims = found
        if not hit:
            assert scheme.verify is not None
            answer = scheme.verify(key)
            if inspect.isawaitable(answer):
                answer = await answer
            claims = scheme._remember(digest, answer)
        settle(request, scheme, claims)

    return verify_key_async


#: What ``auth=`` takes: a scheme, a list of schemes (any one suffices) or None (public).
AuthArgument = AuthScheme | Sequence[AuthScheme] | None


class _Inherit:
    """``auth=`` not stated: the router's (then the app's) applies."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INHERIT"


INHERIT: Final = _Inherit()


def check_auth(auth: AuthArgument | _Inherit, where: str) -> tuple[AuthScheme, ...] | None:
    """A declared ``auth=``, checked: None (inherit) or a tuple of schemes (empty: public)."""
    if isinstance(auth, _Inherit):
        return None
    if auth is None:
        return ()
    if isinstance(auth, AuthScheme):
        return (auth,)
    if isinstance(auth, (str, bytes)) or not isinstance(auth, Sequence):
        raise TypeError(f"{where}: auth= takes JWTAuth/APIKeyAuth objects, a list of them, or None")
    schemes = tuple(auth)
    for scheme in schemes:
        if not isinstance(scheme, AuthScheme):
            raise TypeError(f"{where}: {scheme!r} is not a ferroweb.security scheme")
    if not schemes:
        raise ValueError(f"{where}: auth=[] accepts nobody; write auth=None for a public route")
    return schemes


def decode_claims(raw: RawRequest, decoder: msgspec.json.Decoder[Any]) -> Any:
    """The request's claims as a handler's ``claims_type`` parameter; claims that do not fit
    the type are a token this route cannot accept (401, never a 422 about the token)."""
    found = raw.auth()
    if found is None:
        raise HTTPException(401, "this resource needs authentication", headers={"WWW-Authenticate": "Bearer"})
    try:
        return decoder.decode(found[0])
    except msgspec.ValidationError as exc:
        reason = f"the token's claims are not valid: {exc}"
        challenge = 'Bearer error="invalid_token", error_description="the token\'s claims are not valid"'
        raise HTTPException(401, reason, headers={"WWW-Authenticate": challenge}) from None


#: Fourteen days, as Starlette's and Django's session cookies.
DEFAULT_SESSION_MAX_AGE: Final = 14 * 24 * 3600


def _secret_bytes(value: str | bytes, name: str) -> bytes:
    key = _key_bytes(value, name)
    if len(key) < 16:
        raise ValueError(f"{name} must be at least 16 bytes long (use secrets.token_urlsafe(32))")
    return key


class Sessions(Middleware):
    """``request.session``: a dict of JSON values kept per client between requests.

    - ``secret_keys``: the current key first, then older ones. The first signs (HMAC-SHA256),
      all verify, so keys can be rotated without logging everyone out.
    - ``store="cookie"``: the data itself in the cookie, signed but readable by the client
      (never put secrets in it), at most about 3 KB of JSON (more raises ``ValueError``
      when set). ``store="redis://..."``: the data in Redis under a random 256-bit id, the
      cookie holding only the signed id; it survives worker restarts and is shared by every
      worker and machine. Redis unreachable: 503, never a lost or overwritten session.
    - ``max_age`` seconds (14 days): how long the cookie (and the Redis entry) live; renewed
      whenever the session is written. ``same_site``, ``https_only`` (the ``Secure`` flag),
      ``path`` and ``domain`` are the cookie's attributes; it is always ``HttpOnly``.

    The session is written back when the handler changed it (a key set, deleted, or the
    whole session cleared: the cookie is then removed). Changing a value in place
    (``session["cart"].append(x)``) is not seen: assign it again (``session["cart"] = cart``).
    """

    __slots__ = ("_policy", "cookie", "https_only", "max_age", "same_site", "store")

    def __init__(
        self,
        secret_keys: Sequence[str | bytes],
        cookie: str = "session",
        max_age: int = DEFAULT_SESSION_MAX_AGE,
        same_site: str = "lax",
        https_only: bool = False,
        store: str = "cookie",
        *,
        path: str = "/",
        domain: str | None = None,
        timeout: float = 0.25,
    ) -> None:
        if isinstance(secret_keys, (str, bytes)):
            raise TypeError("secret_keys takes a list: [current, *older]")
        keys = [_secret_bytes(key, "each of secret_keys") for key in secret_keys]
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age <= 0:
            raise ValueError(f"max_age must be a positive number of seconds, got {max_age!r}")
        if not isinstance(store, str) or not (
            store == "cookie" or store.startswith(("redis://", "rediss://"))
        ):
            raise ValueError(f"store must be 'cookie' or a redis:// URL, got {store!r}")
        self.cookie, self.max_age, self.same_site = cookie, max_age, same_site
        self.https_only, self.store = bool(https_only), store
        self._policy = SessionPolicy(
            keys,
            cookie=cookie,
            max_age=float(max_age),
            same_site=same_site,
            https_only=self.https_only,
            path=path,
            domain=domain,
            store=None if store == "cookie" else store,
            timeout=timeout,
        )

    def _stack_entry(self) -> dict[str, Any]:
        return {"sessions": self._policy}

    def __repr__(self) -> str:
        store = (
            self.store
            if "@" not in self.store
            else self.store.split("://")[0] + "://***@" + self.store.rpartition("@")[2]
        )
        return f"Sessions(cookie={self.cookie!r}, max_age={self.max_age!r}, store={store!r})"


class CSRF(Middleware):
    """Cross-site request forgery protection by signed double submit.

    A request with a safe method (``safe_methods``) and no valid token cookie gets one: a
    random token signed with ``secret``, in the cookie ``cookie``, which page scripts can read
    (not ``HttpOnly``). Every other request must send that same token in the ``header``
    header, or it is refused with 403 problem+json before the handler runs. The signature
    stops a token planted in the cookie by a sibling subdomain.
    """

    __slots__ = ("_policy", "cookie", "header", "safe_methods")

    def __init__(
        self,
        secret: str | bytes,
        cookie: str = "csrftoken",
        header: str = "x-csrftoken",
        safe_methods: Sequence[str] = ("GET", "HEAD", "OPTIONS"),
        *,
        same_site: str = "lax",
        https_only: bool = False,
        path: str = "/",
        domain: str | None = None,
    ) -> None:
        methods = [method.upper() for method in _names(safe_methods, "safe_methods")]
        self.cookie, self.header, self.safe_methods = cookie, header, tuple(methods)
        self._policy = CsrfPolicy(
            _secret_bytes(secret, "secret"),
            cookie=cookie,
            header=header,
            safe_methods=methods,
            same_site=same_site,
            https_only=bool(https_only),
            path=path,
            domain=domain,
        )

    def _stack_entry(self) -> dict[str, Any]:
        return {"csrf": self._policy}


class Session(MutableMapping[str, Any]):
    """``request.session``: the session's data as a dict of JSON values. Each change is
    handed to the core, which writes the session back with the response."""

    __slots__ = ("_data", "_raw")

    def __init__(self, raw: RawRequest, data: bytes) -> None:
        self._raw = raw
        decoded = msgspec.json.decode(data)
        self._data: dict[str, Any] = decoded if isinstance(decoded, dict) else {}

    def _changed(self) -> None:
        self._raw.set_session_data(msgspec.json.encode(self._data))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        previous = self._data.get(key, _MISSING)
        self._data[key] = value
        try:
            self._changed()
        except (TypeError, ValueError):
            # not JSON, or too large for the cookie: the session stays as it was
            if previous is _MISSING:
                del self._data[key]
            else:
                self._data[key] = previous
            raise

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._changed()

    def clear(self) -> None:
        """Ends the session (its cookie is removed with the response)."""
        self._data.clear()
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Session({self._data!r})"


_MISSING: Final = object()


def session_of(raw: RawRequest) -> Session:
    data = raw.session_data()
    if data is None:
        raise AssertionError(
            "request.session needs the Sessions middleware on this route (ferroweb.security.Sessions)"
        )
    return Session(raw, data)
