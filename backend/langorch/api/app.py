"""The FastAPI application: routers, error mapping, body limits, and the lifespan that
starts the embedded worker and background loops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from langorch import __version__
from langorch.api.audit import install_audit
from langorch.api.body_check import BodyCheckMiddleware
from langorch.api.deps import AppContext
from langorch.api.errors import install_error_handlers
from langorch.api.guard import authorize
from langorch.api.http_metrics import HttpMetricsMiddleware
from langorch.api.limits import BodyLimitMiddleware
from langorch.api.routes import ROUTERS, docs
from langorch.api.security import install_security, start_auth
from langorch.api.static import mount_ui
from langorch.settings import Settings, get_settings
from langorch.store.db import make_engine, make_sessionmaker
from langorch.worker.embedded import start_runtime

API_PREFIX = "/api"
Startup = Callable[[AppContext, AsyncExitStack], Awaitable[None]]
STARTUP_HOOKS: list[Startup] = [start_auth, start_runtime]
"""Subsystems (worker, loops, static UI) register here; each pushes its own cleanup.
``start_auth`` comes first (the guard needs its state; it creates the local admin), then
``start_runtime``: it opens the hub, event sink and checkpointer the run
routes use (``ctx.extras["runtime"]``) and the embedded worker with its loops."""


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

    app = FastAPI(title="LangOrch", version=__version__, lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None, description="Compile, run and operate CKP procedures.")
    install_error_handlers(app)

    # JSON bodies too deep, with NUL, NaN or out-of-range numbers, and NULs in URLs get 422 before any route runs.
    app.add_middleware(BodyCheckMiddleware, max_depth=settings.api.max_json_depth)
    # Bodies over the limit get 413, with or without a Content-Length (chunked bodies are counted);
    # a body that stops arriving gets 408 after body_read_timeout_s.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api.max_body_bytes,
                       read_timeout_s=settings.api.body_read_timeout_s)

    # Every route runs the guard first: identity, role (auth/policy.py), CSRF, rate limit.
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(authorize)])
    app.include_router(docs.router, dependencies=[Depends(authorize)])
    install_security(app, settings, [*((r, API_PREFIX) for r in ROUTERS), (docs.router, "")])
    install_audit(app)  # it also records requests the guard or the host gate refused
    app.add_middleware(HttpMetricsMiddleware)  # outermost: every answer is counted
    ui = ui_directory(settings)
    if ui is not None:
        mount_ui(app, str(ui))
    return app


def ui_directory(settings: Settings) -> Path | None:
    """The built UI to serve at /: settings.api.static_dir, else the checkout's frontend/out."""
    if settings.api.static_dir:
        return Path(settings.api.static_dir)
    built = Path(__file__).resolve().parents[3] / "frontend" / "out"
    return built if (built / "index.html").is_file() else None
