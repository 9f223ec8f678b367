"""Server-Sent Events: encoding, the response, and reading them back."""

from __future__ import annotations

import pytest

from ferroweb import App, Request
from ferroweb.sse import EventSourceResponse, ServerSentEvent, encode_event, last_event_id
from ferroweb.testing import TestClient


def test_events_encode_every_field_and_split_data_lines() -> None:
    event = ServerSentEvent("one\ntwo\r\nthree\rfour", event="tick", id="7", retry=1500, comment="hello")
    assert event.encode() == (
        b": hello\nid: 7\nevent: tick\nretry: 1500\ndata: one\ndata: two\ndata: three\ndata: four\n\n"
    )
    assert ServerSentEvent({"n": 1}).encode() == b'data: {"n":1}\n\n'
    assert ServerSentEvent("").encode() == b"data: \n\n"
    assert encode_event({"data": "x", "id": "1"}) == b"id: 1\ndata: x\n\n"
    assert encode_event([1, 2]) == b"data: [1,2]\n\n"


@pytest.mark.parametrize(
    "event",
    [
        ServerSentEvent("x", id="a\nb"),
        ServerSentEvent("x", event="bad\rname"),
        ServerSentEvent("x", retry=-1),
        ServerSentEvent(),
    ],
)
def test_invalid_events_are_refused(event: ServerSentEvent) -> None:
    with pytest.raises(ValueError):
        event.encode()


def test_event_stream_headers_and_parsed_events(app: App, client: TestClient) -> None:
    @app.get("/events")
    async def events(request: Request, topic: str) -> EventSourceResponse:
        start = int(last_event_id(request) or 0)

        async def produce():
            for n in range(start + 1, start + 4):
                yield ServerSentEvent(data={"n": n, "topic": topic}, event="tick", id=str(n))

        return EventSourceResponse(produce(), ping=15)

    with client.stream(
        "GET", "/events", params={"topic": "news"}, headers={"last-event-id": "10"}
    ) as response:
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        events = list(response.iter_events())
    assert [(e.id, e.event, e.data) for e in events] == [
        (str(n), "tick", f'{{"n":{n},"topic":"news"}}') for n in (11, 12, 13)
    ]


def test_typed_parameters_are_validated_before_the_stream_starts(app: App, client: TestClient) -> None:
    @app.get("/events")
    async def events(count: int) -> EventSourceResponse:
        return EventSourceResponse(iter(range(count)))

    assert client.get("/events", params={"count": "many"}).status_code == 422
    assert client.get("/events", params={"count": 2}).text == "data: 0\n\ndata: 1\n\n"
