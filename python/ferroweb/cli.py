"""``ferroweb run module:app`` (also ``python -m ferroweb run ...``)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ferroweb import __version__
from ferroweb.applications import App


def load_app(target: str) -> App:
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise SystemExit(f"error: expected 'module:attribute', got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"error: cannot import {module_name!r}: {exc}") from exc
    app: object = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise SystemExit(f"error: {module_name!r} has no attribute {attribute!r}") from None
    if not isinstance(app, App):
        raise SystemExit(f"error: {target!r} is a {type(app).__name__}, not a ferroweb App")
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ferroweb", description="Serve a ferroweb app.")
    parser.add_argument("--version", action="version", version=f"ferroweb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an application")
    run.add_argument("app", help="the application, as 'module:attribute'")
    run.add_argument("--host", help="interface to bind (default: the app's config)")
    run.add_argument("--port", type=int, help="port to bind (0 picks a free one)")
    run.add_argument("--workers", type=int, help="worker processes sharing the port")
    run.add_argument("--runtime-threads", type=int, help="tokio threads per worker")
    run.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), help="event loop")
    run.add_argument("--log-level", default="info", help="logging level (default: info)")
    args = parser.parse_args(argv)

    from ferroweb.server import configure_logging, serve

    configure_logging(args.log_level.upper())
    app = load_app(args.app)
    try:
        config = app.config.replace(
            host=args.host,
            port=args.port,
            workers=args.workers,
            runtime_threads=args.runtime_threads,
            loop=args.loop,
        )
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    try:
        serve(app, config)
    except (OSError, ValueError) as exc:  # e.g. the port is taken, a setting the core refuses
        raise SystemExit(f"error: {exc}") from exc


if __name__ == "__main__":
    main()
