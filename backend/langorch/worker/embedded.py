"""The API process's runtime: a startup hook for ``langorch.api.app.STARTUP_HOOKS``.

It opens the process-wide :class:`~langorch.services.runtime_wiring.ServerRuntime` (hub,
event sink, checkpointer, runner) that the run and approval routes use, and — unless
``LANGORCH_WORKER__EMBEDDED=false`` — starts a worker and the background loops in the
same process.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from langorch.services import telemetry
from langorch.services.runtime_wiring import open_runtime
from langorch.worker.loops import default_loops
from langorch.worker.worker import Worker

__all__ = ["start_runtime"]


async def start_runtime(ctx: Any, stack: AsyncExitStack) -> None:
    """Startup hook: ``ctx`` is the API's AppContext; cleanup goes on ``stack``."""
    if telemetry.configure():
        stack.callback(telemetry.shutdown)
    rt = await open_runtime(ctx.settings, ctx.sessions, stack)
    ctx.extras["runtime"] = rt
    if not ctx.settings.worker.embedded:
        return
    worker = Worker(rt, embedded=True)
    await worker.start()
    stack.push_async_callback(worker.stop)
    ctx.extras["worker"] = worker
    for loop in default_loops(rt):
        await loop.start()
        stack.push_async_callback(loop.stop)
