"""The interactive docs pages (``/docs``: Swagger UI, ``/redoc``: Redoc), served by the core.

Every file is read once at start-up from ``_docs_assets`` (vendored from a pinned package by
``tools/vendor_docs_assets.py``, with its licence) and answered from memory with an ETag: no
request goes to Python, and none leaves the machine (the pages load nothing from a CDN, and
Swagger UI's online validator is turned off). The pages' own scripts are files too, not inline
code, so a ``Content-Security-Policy`` of ``script-src 'self'`` does not break them.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import NamedTuple

#: What ``/docs`` and ``/redoc`` assets are cached for (revalidated by ETag afterwards).
ASSET_CACHE = "public, max-age=86400"
PAGE_CACHE = "no-cache"


class DocsFile(NamedTuple):
    path: str
    content_type: str
    body: bytes
    cache_control: str


def _asset(name: str) -> bytes:
    return (resources.files("ferroweb") / "_docs_assets" / name).read_bytes()


def _page(title: str, head: str, body: str) -> bytes:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n"
    ).encode()


def swagger_files(docs_url: str, openapi_url: str, title: str) -> list[DocsFile]:
    """The Swagger UI page at ``docs_url`` and the files it loads, under ``docs_url``."""
    settings = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "validatorUrl": None,  # the default sends the document to validator.swagger.io
        "tryItOutEnabled": False,
    }
    init = f"window.ui = SwaggerUIBundle({json.dumps(settings)});\n".encode()
    base = docs_url.rstrip("/")
    page = _page(
        f"{title} - Swagger UI",
        f'<link rel="stylesheet" href="{base}/swagger-ui.css">\n',
        f'<div id="swagger-ui"></div>\n<script src="{base}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{base}/swagger-init.js"></script>\n',
    )
    return [
        DocsFile(docs_url, "text/html; charset=utf-8", page, PAGE_CACHE),
        DocsFile(f"{base}/swagger-ui.css", "text/css; charset=utf-8", _asset("swagger-ui.css"), ASSET_CACHE),
        DocsFile(
            f"{base}/swagger-ui-bundle.js",
            "text/javascript; charset=utf-8",
            _asset("swagger-ui-bundle.js"),
            ASSET_CACHE,
        ),
        DocsFile(f"{base}/swagger-init.js", "text/javascript; charset=utf-8", init, PAGE_CACHE),
    ]


def redoc_files(redoc_url: str, openapi_url: str, title: str) -> list[DocsFile]:
    """The Redoc page at ``redoc_url`` and the files it loads, under ``redoc_url``."""
    base = redoc_url.rstrip("/")
    init = (f"Redoc.init({json.dumps(openapi_url)}, {{}}, document.getElementById('redoc'));\n").encode()
    page = _page(
        f"{title} - ReDoc",
        "",
        f'<div id="redoc"></div>\n<script src="{base}/redoc.standalone.js"></script>\n'
        f'<script src="{base}/redoc-init.js"></script>\n',
    )
    return [
        DocsFile(redoc_url, "text/html; charset=utf-8", page, PAGE_CACHE),
        DocsFile(
            f"{base}/redoc.standalone.js",
            "text/javascript; charset=utf-8",
            _asset("redoc.standalone.js"),
            ASSET_CACHE,
        ),
        DocsFile(f"{base}/redoc-init.js", "text/javascript; charset=utf-8", init, PAGE_CACHE),
    ]
