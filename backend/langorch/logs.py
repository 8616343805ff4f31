"""Process logging: plain text for people, or one JSON object per line for log pipelines,
each line carrying the run, node and step (and trace) it was written for.

The ids live in context variables: the worker sets the run for the task that runs a job,
the runtime sets the node and step around their execution, so every log line written
meanwhile — by LangOrch, httpx, LangGraph — carries them without passing them around.
``LANGORCH_LOG_FORMAT=json`` (or ``--log-format json``) selects JSON.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

RUN_ID: ContextVar[str | None] = ContextVar("langorch_run_id", default=None)
NODE_ID: ContextVar[str | None] = ContextVar("langorch_node_id", default=None)
STEP_ID: ContextVar[str | None] = ContextVar("langorch_step_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(where)s"


@contextlib.contextmanager
def bound(var: ContextVar[str | None], value: str | None) -> Iterator[None]:
    """``var`` set to ``value`` for the duration of the block (this task and what it starts)."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def _trace_ids() -> tuple[str | None, str | None]:
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - a dependency of langorch
        return None, None
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None, None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


class ContextFilter(logging.Filter):
    """Adds ``run_id``, ``node_id``, ``step_id``, ``trace_id``, ``span_id`` and ``where`` (a
    text suffix such as `` [run=… node=…]``) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = {"run_id": RUN_ID.get(), "node_id": NODE_ID.get(), "step_id": STEP_ID.get()}
        trace_id, span_id = _trace_ids()
        parts = [f"{k.removesuffix('_id')}={v}" for k, v in ids.items() if v]
        record.__dict__.update(ids, trace_id=trace_id, span_id=span_id,
                               where=f" [{' '.join(parts)}]" if parts else "")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context ids, and the
    exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("run_id", "node_id", "step_id", "trace_id", "span_id"):
            value = getattr(record, key, None)
            if value:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str | int = "INFO", fmt: str = "text") -> None:
    """Root logging to stderr in ``fmt`` ("text" or "json"); quiets httpx's per-request lines
    (a procedure's URL may carry a secret's value)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if isinstance(level, int) else getattr(logging, str(level).upper(), logging.INFO))
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
