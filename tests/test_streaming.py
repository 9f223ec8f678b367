"""StreamingResponse and FileResponse through the in-process client."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from ferroweb import App, FileResponse, Response, StreamingResponse
from ferroweb.testing import RemoteProtocolError, TestClient


def test_async_and_sync_generators_stream_their_chunks_in_order(app: App, client: TestClient) -> None:
    @app.get("/async")
    async def async_stream(count: int) -> StreamingResponse:
        async def produce():
            for n in range(count):
                yield f"{n},"
                await asyncio.sleep(0)

        return StreamingResponse(produce(), media_type="text/csv")

    @app.get("/sync")
    def sync_stream() -> StreamingResponse:
        return StreamingResponse(
            iter([b"a", "b", bytearray(b"c")]), status_code=202, headers={"x-kind": "sync"}
        )

    response = client.get("/async", params={"count": 500})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text == "".join(f"{n}," for n in range(500))
    response = client.get("/sync")
    assert (response.status_code, response.headers["x-kind"], response.content) == (202, "sync", b"abc")


def test_large_bytes_are_sent_intact_and_released_afterwards(app: App, client: TestClient) -> None:
    # Large bytes objects are shared with the engine instead of copied; the engine must drop
    # its reference once they are sent, whichever thread sends them.
    chunk = bytes(range(256)) * 400  # 100 KiB, above the sharing threshold

    @app.get("/streamed")
    def streamed() -> StreamingResponse:
        return StreamingResponse(iter([chunk, b"-", chunk]))

    @app.get("/whole")
    def whole() -> Response:
        return Response(chunk, media_type="application/octet-stream")

    @app.get("/tiny")
    def tiny() -> str:
        return "ok"

    baseline = sys.getrefcount(chunk)
    for _ in range(50):
        assert client.get("/streamed").content == chunk + b"-" + chunk
        assert client.get("/whole").content == chunk
    # References dropped on an engine thread are released at the next call into the engine.
    deadline = time.monotonic() + 5
    while sys.getrefcount(chunk) != baseline and time.monotonic() < deadline:
        client.get("/tiny")
    assert sys.getrefcount(chunk) == baseline


def test_chunks_arrive_while_the_generator_still_runs(app: App, client: TestClient) -> None:
    release = asyncio.Event()

    @app.get("/gated")
    async def gated() -> StreamingResponse:
        async def produce():
            yield b"first"
            await release.wait()
            yield b"second"

        return StreamingResponse(produce())

    with client.stream("GET", "/gated") as response:
        chunks = response.iter_bytes()
        assert next(chunks) == b"first"
        release.set()
        assert list(chunks) == [b"second"]


def test_an_error_before_the_first_chunk_is_a_500(app: App, client: TestClient) -> None:
    @app.get("/fails")
    async def fails() -> StreamingResponse:
        async def produce():
            raise RuntimeError("no data")
            yield b""  # pragma: no cover

        return StreamingResponse(produce())

    response = client.get("/fails")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


def test_an_error_mid_stream_breaks_the_transfer(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/breaks")
    async def breaks() -> StreamingResponse:
        async def produce():
            yield b"partial"
            raise RuntimeError("lost the database")

        return StreamingResponse(produce())

    with client.stream("GET", "/breaks") as response:
        assert response.status_code == 200
        with pytest.raises(RemoteProtocolError):
            response.read()
    assert "lost the database" in caplog.text


def test_leaving_the_stream_closes_the_generator(app: App, client: TestClient) -> None:
    closed = asyncio.Event()

    @app.get("/endless")
    async def endless() -> StreamingResponse:
        async def produce():
            try:
                while True:
                    yield b"x" * 1024
                    await asyncio.sleep(0)
            finally:
                closed.set()

        return StreamingResponse(produce())

    with client.stream("GET", "/endless") as response:
        assert next(response.iter_bytes())
    client._ferroweb.run(asyncio.wait_for(closed.wait(), 5))


def test_non_iterable_content_is_refused_at_construction() -> None:
    with pytest.raises(TypeError):
        StreamingResponse(b"not an iterator")


def test_file_response_is_served_with_validators_and_ranges(
    app: App, client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"0123456789" * 10)

    @app.get("/file")
    def file() -> FileResponse:
        return FileResponse(path)

    @app.get("/download")
    def download() -> FileResponse:
        return FileResponse(path, filename="résumé.txt")

    @app.get("/missing")
    def missing() -> FileResponse:
        return FileResponse(tmp_path / "nope.txt")

    full = client.get("/file")
    assert full.status_code == 200
    assert full.content == path.read_bytes()
    assert full.headers["content-type"] == "text/plain; charset=utf-8"
    assert full.headers["accept-ranges"] == "bytes"
    etag = full.headers["etag"]
    assert client.get("/file", headers={"if-none-match": etag}).status_code == 304
    partial = client.get("/file", headers={"range": "bytes=10-19"})
    assert (partial.status_code, partial.content, partial.headers["content-range"]) == (
        206,
        b"0123456789",
        "bytes 10-19/100",
    )
    assert client.get("/file", headers={"range": "bytes=500-"}).status_code == 416
    assert "filename*=UTF-8''r%C3%A9sum%C3%A9.txt" in client.get("/download").headers["content-disposition"]
    assert client.get("/missing").status_code == 404
