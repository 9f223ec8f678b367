"""The ``ferroweb`` command (also ``python -m ferroweb``): ``run`` serves an app, ``openapi``
and ``asyncapi`` print its OpenAPI / AsyncAPI documents, ``routes`` lists its routes."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

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
    run.add_argument("--env-file", help="read variables (FERROWEB_* settings, the app's own) from this file")
    run.add_argument(
        "--reload", action="store_true", help="restart when files under the app's directory change"
    )
    run.add_argument(
        "--reload-dir",
        action="append",
        default=[],
        help="directory to watch (repeatable; default: the app's)",
    )
    run.add_argument(
        "--reload-include",
        action="append",
        default=[],
        help="file pattern to watch (repeatable; default: *.py)",
    )
    for name, kind in (("openapi", "OpenAPI 3.1"), ("asyncapi", "AsyncAPI 3.0 (WebSocket and SSE routes)")):
        command = commands.add_parser(name, help=f"print the application's {kind} document")
        command.add_argument("app", help="the application, as 'module:attribute'")
        command.add_argument("--yaml", action="store_true", help="YAML instead of JSON (needs PyYAML)")
        command.add_argument("-o", "--output", help="write to this file instead of standard output")
    routes = commands.add_parser("routes", help="list the application's routes")
    routes.add_argument("app", help="the application, as 'module:attribute'")
    args = parser.parse_args(argv)
    if args.command in ("openapi", "asyncapi"):
        app = load_app(args.app)
        document = app.openapi() if args.command == "openapi" else app.asyncapi()
        _write(_document_text(document, args.yaml), args.output)
        return
    if args.command == "routes":
        _write(routes_table(load_app(args.app)), None)
        return

    from ferroweb._env_config import config_from_environment, load_env_file
    from ferroweb.server import configure_logging, serve

    configure_logging(args.log_level.upper())
    try:
        if args.env_file is not None:
            load_env_file(args.env_file)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    if args.reload:
        from ferroweb._reload import serve_reloading

        raise SystemExit(serve_reloading(args))
    app = load_app(args.app)
    try:
        config = config_from_environment(app.config).replace(
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


def _document_text(document: dict[str, Any], as_yaml: bool) -> str:
    if not as_yaml:
        return json.dumps(document, indent=2) + "\n"
    try:
        yaml = importlib.import_module("yaml")  # optional, and untyped
    except ImportError:
        raise SystemExit("error: --yaml needs PyYAML: pip install pyyaml") from None
    text: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return text


def _write(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        raise SystemExit(f"error: cannot write {path!r}: {exc}") from exc


def _auth_cell(route: Any) -> str:
    """``JWTAuth[admin] | APIKeyAuth`` (any one suffices), ``-`` for a public route."""
    names = []
    for scheme in route.auth or ():
        scopes = getattr(scheme, "scopes", ())
        names.append(type(scheme).__name__ + (f"[{' '.join(scopes)}]" if scopes else ""))
    return " | ".join(names) or "-"


def routes_table(app: App) -> str:
    """Methods, path, handler, parameters, authentication and middleware of each route, one
    per line."""
    from ferroweb._params import analyse

    rows = [("METHODS", "PATH", "HANDLER", "PARAMETERS", "AUTH", "MIDDLEWARE")]
    for route in app.routes:
        methods = "WS" if route.websocket else ",".join(route.methods)
        handler = f"{getattr(route.endpoint, '__module__', '?')}.{route.name}"
        parameters = ", ".join(
            f"{spec.source}:{spec.key}"
            for spec in analyse(route)
            if spec.source not in ("request", "response", "claims")
        )
        middleware = ", ".join(type(entry).__name__ for entry in route.middleware)
        rows.append((methods, route.path, handler, parameters or "-", _auth_cell(route), middleware or "-"))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[5]
        for row in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


if __name__ == "__main__":
    main()
