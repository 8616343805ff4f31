"""The process runtime (hub, event sink, checkpointer) as a route dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from langorch.api.deps import Ctx
from langorch.services.errors import Unavailable
from langorch.services.runtime_wiring import ServerRuntime


def get_runtime(ctx: Ctx) -> ServerRuntime:
    rt = ctx.extras.get("runtime")
    if not isinstance(rt, ServerRuntime):
        raise Unavailable("the run runtime is not started in this process")
    return rt


Runtime = Annotated[ServerRuntime, Depends(get_runtime)]
