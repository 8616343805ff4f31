"""``langorch worker``: a standalone worker process (scaled-out deployments).

Register with ``add_worker_command(subparsers)``. It reads the same ``LANGORCH_*``
settings as the server, claims jobs until SIGTERM/SIGINT, then stops claiming, lets
running jobs finish for ``--grace`` seconds and hands the rest back to the queue.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from contextlib import AsyncExitStack
from typing import Any

__all__ = ["add_worker_command", "run_worker"]


def add_worker_command(sub: Any) -> None:
    p = sub.add_parser("worker", help="run a worker that claims queued runs (PostgreSQL or SQLite)")
    p.add_argument("--concurrency", type=int, help="runs at once (default LANGORCH_WORKER__CONCURRENCY)")
    p.add_argument("--worker-id", help="name shown in queue stats (default host-pid-random)")
    p.add_argument("--grace", type=float, default=10.0, help="seconds running jobs may finish on shutdown")
    p.add_argument("--no-loops", action="store_true", help="do not run the expiry/reaper/retention loops")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--log-format", choices=("text", "json"), help="default LANGORCH_LOG_FORMAT, else text")
    p.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    from langorch import logs
    from langorch.settings import get_settings

    logs.configure(args.log_level, args.log_format or get_settings().log_format)
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from langorch.services import telemetry
    from langorch.services.runtime_wiring import open_runtime
    from langorch.settings import get_settings
    from langorch.store.db import make_engine, make_sessionmaker
    from langorch.worker.loops import default_loops
    from langorch.worker.worker import Worker

    settings = get_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        if telemetry.configure():
            stack.callback(telemetry.shutdown)
        engine = make_engine(settings.db.url, echo=settings.db.echo)
        stack.push_async_callback(engine.dispose)
        rt = await open_runtime(settings, make_sessionmaker(engine), stack)
        worker = Worker(rt, worker_id=args.worker_id, concurrency=args.concurrency)
        await worker.start()
        loops = [] if args.no_loops else default_loops(rt)
        for service in loops:
            await service.start()
        print(f"worker {worker.worker_id} ready", flush=True)
        await stop.wait()
        for service in loops:
            await service.stop()
        await worker.stop(timeout_s=args.grace)
    return 0
