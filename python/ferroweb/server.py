"""Running an app: one worker process, or a supervisor forking several that share the port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

from ferroweb import background
from ferroweb._ferroweb import Server
from ferroweb._lifespan import StartupFailed
from ferroweb._runtime import AppRuntime
from ferroweb.config import ServerConfig

if TYPE_CHECKING:
    from ferroweb._engine_plan import EnginePlan
    from ferroweb._served_app import ServedApp

logger = logging.getLogger("ferroweb")

#: A worker that dies within this many seconds of starting is treated as a start-up failure.
_STARTUP_GRACE = 2.0


def configure_logging(level: int | str = logging.INFO) -> None:
    """Gives ferroweb's loggers a stderr handler unless the application configured logging."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=level,
            format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
        )


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def serve(app: ServedApp, config: ServerConfig) -> None:
    """Serves ``app`` until SIGINT/SIGTERM, then shuts down gracefully and returns."""
    configure_logging()
    if config.workers > 1:
        code = supervise(app, config)
        if code:
            sys.exit(code)
        return
    run_worker(app, config)


def run_worker(app: ServedApp, config: ServerConfig) -> None:
    loop = new_event_loop(config.loop)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_serve(app, config))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()


async def _serve(app: ServedApp, config: ServerConfig) -> None:
    loop = asyncio.get_running_loop()
    runtime = AppRuntime(app, loop)
    stop = asyncio.Event()
    force = asyncio.Event()

    def on_signal() -> None:
        # The first signal drains gracefully; a second one stops waiting for in-flight work.
        if stop.is_set():
            force.set()
        stop.set()

    def start_server(plan: EnginePlan) -> Server:
        return Server(config, plan.routing, plan.queue)

    # The one app of this process: background.run works from any thread of it.
    with background.use(runtime.background, process_wide=True):
        try:
            await runtime.start(start_server)
        except StartupFailed as exc:
            logger.error("%s; the server is not started", exc, exc_info=exc.__cause__)
            raise SystemExit(3) from None
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal)
        try:
            server = runtime.engine
            assert isinstance(server, Server)
            host, port = server.local_addr
            logger.info("ferroweb serving on http://%s:%d (pid %d)", host, port, os.getpid())
            stopped = asyncio.ensure_future(runtime.dispatcher.wait_server_stopped())
            stop_requested = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait([stop_requested, stopped], return_when="FIRST_COMPLETED")
            finally:
                stopped.cancel()
                stop_requested.cancel()
            logger.info(
                "shutting down: finishing in-flight requests (up to %ss; signal again to force)",
                config.shutdown_timeout,
            )
            forced = await runtime.stop(force=force)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
    if forced:
        raise SystemExit(1)
    logger.info("ferroweb stopped (pid %d)", os.getpid())


def _reserve_port(config: ServerConfig) -> tuple[ServerConfig, socket.socket | None]:
    """With port 0 and several workers, picks one free port for all of them. The reserving
    socket is bound with SO_REUSEPORT but never listens, so it receives no connections."""
    if config.port != 0:
        return config, None
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((config.host, 0))
    return config.replace(port=holder.getsockname()[1]), holder


def _spawn(app: ServedApp, config: ServerConfig) -> int:
    pid = os.fork()
    if pid:
        return pid
    # Child: a fresh worker with default signal handling; never returns into the caller.
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        # `workers` stays as configured: it tells the core to share the port (SO_REUSEPORT).
        run_worker(app, config)
    except BaseException:
        logger.exception("worker %d failed", os.getpid())
        code = 1
    finally:
        logging.shutdown()
        os._exit(code)


def supervise(app: ServedApp, config: ServerConfig) -> int:
    """Forks ``config.workers`` workers, restarts any that crash, forwards SIGINT/SIGTERM,
    and returns 0 when all exited cleanly after a signal."""
    config, holder = _reserve_port(config)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    workers: dict[int, float] = {}
    failed = False
    try:
        for _ in range(config.workers):
            workers[_spawn(app, config)] = time.monotonic()
        logger.info("supervisor %d started %d workers", os.getpid(), len(workers))
        while workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            started = workers.pop(pid, None)
            if started is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if stopping:
                failed = failed or code != 0
                continue
            if time.monotonic() - started < _STARTUP_GRACE:
                logger.error("worker %d failed at start-up (exit %d); stopping", pid, code)
                failed = True
                on_signal(signal.SIGTERM, None)
                continue
            logger.warning("worker %d exited unexpectedly (exit %d); restarting", pid, code)
            workers[_spawn(app, config)] = time.monotonic()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if holder is not None:
            holder.close()
    return 1 if failed else 0
