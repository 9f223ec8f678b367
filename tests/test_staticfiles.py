"""ferroweb.staticfiles through the test client: files with validators and ranges, HTML mode,
precompressed siblings, symbolic links, the traversal corpus, mounts on routers and at the
root, the app's middleware and 404 handler, and what a declaration refuses."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path
from typing import Any

import pytest

from ferroweb import App, JSONResponse, Router
from ferroweb.middleware import CORS, Compression, SecurityHeaders
from ferroweb.staticfiles import DEFAULT_MEMORY_CACHE_BYTES, StaticFiles
from ferroweb.testing import TestClient

SECRET = "TOP-SECRET-OUTSIDE"

#: Request targets (after the mount prefix) that try to leave the directory; none may
#: answer anything but a 404 without the secret.
TRAVERSALS = [
    "/../secret.txt",
    "/../../secret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/.%2e/secret.txt",
    "/%2e./secret.txt",
    "/docs/../../secret.txt",
    "/docs/%2e%2e/%2e%2e/secret.txt",
    "/./../secret.txt",
    "//../secret.txt",
    "/..\\secret.txt",
    "/..%5csecret.txt",
    "/..%5Csecret.txt",
    "/%252e%252e/secret.txt",
    "/%c0%ae%c0%ae/secret.txt",
    "/%c0%af../secret.txt",
    "/%e0%80%ae%e0%80%ae/secret.txt",
    "/..%00/secret.txt",
    "/hello.txt%00.png",
    "/%00",
    "/%2fetc%2fpasswd",
    "/%2Fsecret.txt",
    "//etc/passwd",
    "/etc/passwd",
    "/C:/Windows/win.ini",
    "/C%3A%5CWindows%5Cwin.ini",
    "/hello.txt::$DATA",
    "/..;/secret.txt",
    "/link-out",
    "/link-out/",
    "/dir-link-out/secret.txt",
    "/docs/..%2f..%2fsecret.txt",
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``public/`` (served) beside ``secret.txt`` (never served)."""
    (tmp_path / "secret.txt").write_text(SECRET)
    public = tmp_path / "public"
    (public / "docs").mkdir(parents=True)
    (public / "empty").mkdir()
    (public / "hello.txt").write_text("hello")
    (public / "docs" / "index.html").write_text("<h1>docs</h1>")
    (public / "app.css").write_text("body { color: red }\n" * 100)
    (public / "app.css.br").write_bytes(b"BROTLI-BYTES")
    (public / "app.css.gz").write_bytes(gzip.compress((public / "app.css").read_bytes()))
    (public / "big.txt").write_text("compress me please " * 500)
    os.symlink(tmp_path / "secret.txt", public / "link-out")
    os.symlink(tmp_path, public / "dir-link-out")
    os.symlink(public / "hello.txt", public / "link-in")
    return public


def test_files_are_served_with_validators_ranges_and_head(tree: Path) -> None:
    app = App()
    app.mount("/static", StaticFiles(tree, cache_control="public, max-age=3600"))
    with TestClient(app) as client:
        response = client.get("/static/hello.txt")
        assert response.status_code == 200
        assert response.text == "hello"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=3600"
        assert response.headers["accept-ranges"] == "bytes"
        assert "last-modified" in response.headers
        etag = response.headers["etag"]
        cached = client.get("/static/hello.txt", headers={"if-none-match": etag})
        assert cached.status_code == 304 and cached.content == b""
        assert cached.headers["cache-control"] == "public, max-age=3600"
        part = client.get("/static/hello.txt", headers={"range": "bytes=1-3"})
        assert (part.status_code, part.text) == (206, "ell")
        assert part.headers["content-range"] == "bytes 1-3/5"
        head = client.head("/static/hello.txt")
        assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "5")
        refused = client.post("/static/hello.txt")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD, OPTIONS"
        assert client.options("/static/hello.txt").headers["allow"] == "GET, HEAD, OPTIONS"
        # directories are never listed, and without html mode not served at all
        for path in ("/static/docs/", "/static/docs", "/static", "/static/", "/static/missing"):
            missing = client.get(path, follow_redirects=False)
            assert missing.status_code == 404, path
            assert missing.headers["content-type"] == "application/problem+json"


def test_html_mode_serves_index_files_and_the_404_page(tree: Path) -> None:
    app = App()
    app.mount("/site", StaticFiles(tree, html=True))
    with TestClient(app) as client:
        redirect = client.get("/site/docs?lang=en", follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["location"] == "/site/docs/?lang=en"
        assert client.get("/site/docs").text == "<h1>docs</h1>"
        assert client.get("/site/empty/").status_code == 404
        assert client.get("/site/nope").headers["content-type"] == "application/problem+json"
        (tree / "404.html").write_text("<h1>gone</h1>")
        page = client.get("/site/nope")
        assert (page.status_code, page.text) == (404, "<h1>gone</h1>")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert client.get("/site/empty/").text == "<h1>gone</h1>"
        (tree / "index.html").write_text("<h1>home</h1>")
        assert client.get("/site/").text == "<h1>home</h1>"
        assert client.get("/site", follow_redirects=False).headers["location"] == "/site/"


def test_a_custom_index_file(tree: Path) -> None:
    (tree / "docs" / "default.htm").write_text("<p>default</p>")
    app = App()
    app.mount("/site", StaticFiles(tree, html=True, index="default.htm"))
    with TestClient(app) as client:
        assert client.get("/site/docs/").text == "<p>default</p>"


def test_precompressed_siblings_are_chosen_by_accept_encoding(tree: Path) -> None:
    app = App()
    app.mount("/static", StaticFiles(tree))
    app.mount("/plain", StaticFiles(tree, precompressed=False))
    original = (tree / "app.css").read_text()
    with TestClient(app) as client:
        brotli = client.get("/static/app.css", headers={"accept-encoding": "br"})
        assert brotli.headers["content-encoding"] == "br"
        assert brotli.headers["content-type"] == "text/css; charset=utf-8"
        assert brotli.headers["vary"] == "accept-encoding"
        with client.stream("GET", "/static/app.css", headers={"accept-encoding": "br"}) as raw:
            assert b"".join(raw.iter_raw()) == b"BROTLI-BYTES"
        gzipped = client.get("/static/app.css", headers={"accept-encoding": "gzip"})
        assert gzipped.headers["content-encoding"] == "gzip"
        assert gzipped.text == original  # httpx decodes it
        zstd_preferred = client.get("/static/app.css", headers={"accept-encoding": "zstd, gzip;q=0.5"})
        assert zstd_preferred.headers["content-encoding"] == "gzip"  # there is no .zst
        identity = client.get("/static/app.css", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in identity.headers and identity.text == original
        ignored = client.get("/plain/app.css", headers={"accept-encoding": "br, gzip"})
        assert "content-encoding" not in ignored.headers and ignored.text == original
        assert "vary" not in ignored.headers


def test_symbolic_links_stay_inside_unless_followed(tree: Path) -> None:
    app = App()
    app.mount("/confined", StaticFiles(tree))
    app.mount("/following", StaticFiles(tree, follow_symlinks=True))
    with TestClient(app) as client:
        assert client.get("/confined/link-in").text == "hello"
        assert client.get("/confined/link-out").status_code == 404
        assert client.get("/confined/dir-link-out/secret.txt").status_code == 404
        assert client.get("/following/link-out").text == SECRET
        assert client.get("/following/dir-link-out/secret.txt").text == SECRET


@pytest.mark.parametrize("html", [False, True])
def test_the_traversal_corpus_never_escapes(tree: Path, html: bool) -> None:
    (tree / "404.html").write_text("<h1>gone</h1>")
    app = App()
    app.mount("/static", StaticFiles(tree, html=html))
    assert len(TRAVERSALS) >= 30
    with TestClient(app) as client:
        for target in TRAVERSALS:
            response = client.get("/", extensions={"target": f"/static{target}".encode()})
            assert response.status_code in (400, 404), target
            assert SECRET not in response.text, target
            assert "root:" not in response.text, target


def test_mounts_on_routers_and_at_the_root(tree: Path) -> None:
    app = App()
    assets = Router(prefix="/assets")
    assets.mount("/v1", StaticFiles(tree))
    app.include_router(assets, prefix="/cdn")
    app.mount("/", StaticFiles(tree, html=True))

    @app.get("/api/items")
    def items() -> list[int]:
        return [1, 2]

    assert [mount.path for mount in app.mounts] == ["/cdn/assets/v1", ""]
    with TestClient(app) as client:
        assert client.get("/cdn/assets/v1/hello.txt").text == "hello"
        assert client.get("/api/items").json() == [1, 2]
        assert client.get("/hello.txt").text == "hello"
        assert client.get("/docs/").text == "<h1>docs</h1>"
        assert client.get("/nothing-here").status_code == 404


def test_the_mount_gets_the_app_middleware_and_404_handler(tree: Path) -> None:
    app = App(
        middleware=[CORS(allow_origins=["https://app.example"]), SecurityHeaders(), Compression()],
        exception_handlers={404: lambda request, exc: JSONResponse({"missing": request.url.path}, 404)},
    )
    app.mount("/static", StaticFiles(tree))
    app.mount("/raw", StaticFiles(tree), middleware=[Compression(minimum_size=10**9)])
    with TestClient(app) as client:
        response = client.get(
            "/static/big.txt", headers={"origin": "https://app.example", "accept-encoding": "gzip"}
        )
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-encoding"] == "gzip"
        assert response.text == "compress me please " * 500
        preflight = client.options(
            "/static/big.txt",
            headers={"origin": "https://app.example", "access-control-request-method": "GET"},
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        # the mount's own Compression replaces the app's
        raw = client.get("/raw/big.txt", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in raw.headers
        assert raw.headers["x-content-type-options"] == "nosniff"
        missing = client.get("/static/nope.txt")
        assert (missing.status_code, missing.json()) == (404, {"missing": "/static/nope.txt"})


def test_a_mount_added_after_the_start_is_served(tree: Path) -> None:
    app = App()

    @app.get("/")
    def index() -> str:
        return "index"

    with TestClient(app) as client:
        assert client.get("/late/hello.txt").status_code == 404
        app.mount("/late", StaticFiles(tree))
        assert client.get("/late/hello.txt").text == "hello"


@pytest.mark.parametrize(
    ("declare", "error", "message"),
    [
        (lambda tree: StaticFiles(tree / "nope"), FileNotFoundError, "nope"),
        (lambda tree: StaticFiles(tree / "hello.txt"), NotADirectoryError, "not a directory"),
        (lambda tree: StaticFiles(tree, index="../x"), ValueError, "plain file name"),
        (lambda tree: StaticFiles(tree, cache_control="a\nb"), ValueError, "cache_control"),
        (lambda tree: StaticFiles(42), TypeError, "must be a path"),
        (lambda tree: StaticFiles(tree, memory_cache_bytes=-1), ValueError, "memory_cache_bytes"),
        (lambda tree: StaticFiles(tree, memory_cache_bytes="1"), TypeError, "memory_cache_bytes"),
        (lambda tree: App().mount("static", StaticFiles(tree)), ValueError, "start with '/'"),
        (lambda tree: App().mount("/{x}", StaticFiles(tree)), ValueError, "no parameters"),
        (lambda tree: App().mount("/s", object()), TypeError, "only ferroweb.staticfiles.StaticFiles"),
        (
            lambda tree: [
                app := App(),
                app.mount("/s", StaticFiles(tree)),
                app.mount("/s/", StaticFiles(tree)),
            ],
            ValueError,
            "already mounted",
        ),
    ],
)
def test_bad_declarations_are_refused(tree: Path, declare: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        declare(tree)


def test_a_mount_clashing_with_a_route_fails_at_start(tree: Path) -> None:
    app = App()

    @app.get("/static/{name}")
    def named(name: str) -> str:
        return name

    app.mount("/static", StaticFiles(tree))
    with pytest.raises(ValueError, match="static"), TestClient(app) as client:
        client.get("/static/x")


@pytest.mark.parametrize("memory_cache_bytes", [DEFAULT_MEMORY_CACHE_BYTES, 0])
def test_files_held_in_memory_are_checked_against_the_disk_again(tree: Path, memory_cache_bytes: int) -> None:
    app = App()
    app.mount("/static", StaticFiles(tree, memory_cache_bytes=memory_cache_bytes))
    with TestClient(app) as client:
        first = client.get("/static/hello.txt")
        assert first.text == (tree / "hello.txt").read_text()
        (tree / "hello.txt").write_text("changed on disk")
        # within a second the cache may answer as before; after it, never
        time.sleep(1.1)
        again = client.get("/static/hello.txt")
        assert again.text == "changed on disk"
        assert again.headers["etag"] != first.headers["etag"]
        assert client.get("/static/hello.txt", headers={"range": "bytes=0-6"}).text == "changed"
        (tree / "hello.txt").unlink()
        time.sleep(1.1)
        assert client.get("/static/hello.txt").status_code == 404


def test_repr_names_the_settings(tree: Path) -> None:
    files = StaticFiles(tree, html=True)
    assert repr(files).startswith(f"StaticFiles(directory={str(tree.resolve())!r}, html=True")
    assert files.directory == tree.resolve()


def test_a_body_compressed_on_the_fly_gets_a_weak_etag(tree: Path) -> None:
    app = App(middleware=[Compression()])
    app.mount("/static", StaticFiles(tree))
    with TestClient(app) as client:
        plain = client.get("/static/big.txt", headers={"accept-encoding": "identity"})
        compressed = client.get("/static/big.txt", headers={"accept-encoding": "gzip"})
        assert compressed.headers["content-encoding"] == "gzip"
        assert compressed.headers["etag"] == "W/" + plain.headers["etag"]
        revalidated = client.get(
            "/static/big.txt",
            headers={"accept-encoding": "gzip", "if-none-match": compressed.headers["etag"]},
        )
        assert revalidated.status_code == 304
        # a precompressed sibling is its own file, with its own strong tag
        sibling = client.get("/static/app.css", headers={"accept-encoding": "gzip"})
        assert sibling.headers["content-encoding"] == "gzip"
        assert sibling.headers["etag"].startswith('"')
