from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(body, status_code=201, headers={"x-echo": "1"}, media_type="application/octet-stream")


app = Starlette(
    routes=[
        Route("/plaintext", plaintext, methods=["GET"]),
        Route("/", index, methods=["GET"]),
        Route("/echo", echo, methods=["POST"]),
    ]
)
