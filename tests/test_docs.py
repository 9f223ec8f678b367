"""The docs pages (ferroweb._docs): Swagger UI at /docs and Redoc at /redoc, served by the
core from vendored assets, loading nothing from outside the app."""

from __future__ import annotations

import re

import pytest

from ferroweb import App
from ferroweb.openapi import OpenAPI
from ferroweb.testing import TestClient


def make_app(**options: object) -> App:
    app = App(openapi=OpenAPI(title="Shop <&>"), **options)  # type: ignore[arg-type]

    @app.get("/items/{item_id}")
    def read_item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


def referenced(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


@pytest.mark.parametrize(("page_url", "marker"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
def test_pages_load_only_their_own_files(page_url: str, marker: str) -> None:
    with TestClient(make_app()) as client:
        page = client.get(page_url)
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "<title>Shop &lt;&amp;&gt;" in page.text  # the title is escaped
        assert f'id="{marker}"' in page.text
        files = referenced(page.text)
        assert files and all(url.startswith(page_url + "/") for url in files)  # nothing from a CDN
        assert "<script>" not in page.text  # no inline script: CSP script-src 'self' works
        for url in files:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.content.strip(), url
        init = client.get(f"{page_url}/{'swagger' if marker == 'swagger-ui' else 'redoc'}-init.js").text
        assert "/openapi.json" in init
        assert "https://" not in init


def test_swagger_turns_the_online_validator_off_and_assets_are_cached() -> None:
    with TestClient(make_app()) as client:
        assert '"validatorUrl": null' in client.get("/docs/swagger-init.js").text
        bundle = client.get("/docs/swagger-ui-bundle.js")
        assert bundle.headers["cache-control"] == "public, max-age=86400"
        assert bundle.headers["content-type"] == "text/javascript; charset=utf-8"
        again = client.get("/docs/swagger-ui-bundle.js", headers={"if-none-match": bundle.headers["etag"]})
        assert again.status_code == 304
        assert client.get("/docs").headers["cache-control"] == "no-cache"


def test_pages_move_or_go_with_their_settings() -> None:
    with TestClient(
        make_app(docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    ) as client:
        assert "/api/docs/swagger-ui-bundle.js" in client.get("/api/docs").text
        assert "/api/openapi.json" in client.get("/api/docs/swagger-init.js").text
        assert client.get("/redoc").status_code == 404
        assert client.get("/docs").status_code == 404
    with TestClient(make_app(openapi_url=None)) as client:  # no document: no pages either
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404


def test_vendored_assets_carry_their_licences() -> None:
    from importlib import resources

    assets = resources.files("ferroweb") / "_docs_assets"
    assert "Apache License" in (assets / "swagger-ui-LICENSE").read_text()
    assert "MIT" in (assets / "redoc-LICENSE").read_text()
    assert "drf-spectacular-sidecar==" in (assets / "SOURCE.txt").read_text()
