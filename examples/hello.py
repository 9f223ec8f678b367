"""The first ferroweb app: run it with `python examples/hello.py` or
`ferroweb run examples.hello:app --workers 2`."""

import msgspec

from ferroweb import App, HTTPException, Response, WebSocket

app = App()


@app.get("/")
def index() -> dict:
    return {"message": "Hello, World!"}


@app.get("/plaintext")
def plaintext() -> str:  # str -> text/plain; charset=utf-8
    return "Hello, World!"


@app.get("/items/{item_id}")
async def get_item(item_id: str) -> dict:
    if item_id == "missing":
        raise HTTPException(404, detail="item not found")
    return {"item_id": item_id}


@app.post("/echo", status_code=201)
async def echo(request) -> Response:  # type: ignore[no-untyped-def]
    body = await request.body()
    return Response(body, status_code=201, headers={"x-echo": "1"}, media_type="application/octet-stream")


class Note(msgspec.Struct):
    text: str


@app.websocket("/notes", receives=Note, sends=Note)
async def notes(websocket: WebSocket) -> None:
    """Answers each note in capitals (its messages are described at /asyncapi.json)."""
    await websocket.accept()
    async for note in websocket.iter_json():
        await websocket.send_json(Note(text=note.text.upper()))


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
