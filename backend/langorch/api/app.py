"""The FastAPI application: routers, error mapping, body limits, and the lifespan that
starts the embedded worker and background loops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from langorch import __version__
from langorch.api.deps import AppContext
from langorch.api.errors import error_body, install_error_handlers
from langorch.api.routes import ROUTERS
from langorch.settings import Settings, get_settings
from langorch.store.db import make_engine, make_sessionmaker

Startup = Callable[[AppContext, AsyncExitStack], Awaitable[None]]
STARTUP_HOOKS: list[Startup] = []
"""Subsystems (worker, loops, static UI) register here; each pushes its own cleanup."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.db.url, echo=settings.db.echo)
        ctx = AppContext(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
        app.state.ctx = ctx
        async with AsyncExitStack() as stack:
            stack.push_async_callback(engine.dispose)
            for hook in STARTUP_HOOKS:
                await hook(ctx, stack)
            yield

    app = FastAPI(title="LangOrch", version=__version__, lifespan=lifespan,
                  description="Compile, run and operate CKP procedures.")
    install_error_handlers(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        limit = settings.api.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            return JSONResponse(error_body("payload_too_large", f"request body is larger than {limit} bytes"),
                                status_code=413)
        return await call_next(request)

    for router in ROUTERS:
        app.include_router(router, prefix="/api")
    return app
