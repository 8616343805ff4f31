"""OpenTelemetry traces of runs: run → node → step → outgoing call.

Every job of a run (its start, each resume after an approval, a recovery after a crash)
belongs to one trace whose id is derived from the run id, so a run that paused for a day
is still one trace; :func:`trace_id` gives it for the run's page. Spans carry
``langorch.run_id``, ``langorch.node_id`` and ``langorch.step_id``; outgoing agent, HTTP
and LLM calls carry the W3C ``traceparent`` header (:func:`inject`), so an agent's own
spans join the trace.

This module uses only the OpenTelemetry API: spans are recorded and exported when the
process configured an SDK (``services/telemetry.py``, from the standard ``OTEL_*``
environment variables); otherwise they cost next to nothing and the ``traceparent`` still
propagates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

TRACER = trace.get_tracer("langorch")


def _ids(run_id: str) -> tuple[int, int]:
    digest = hashlib.sha256(run_id.encode()).hexdigest()
    trace_hex = run_id if len(run_id) == 32 and all(c in "0123456789abcdef" for c in run_id) else digest[:32]
    return int(trace_hex, 16), int(digest[32:48], 16) or 1


def trace_id(run_id: str) -> str:
    """The W3C trace id (32 hex digits) of every span of ``run_id``."""
    return f"{_ids(run_id)[0]:032x}"


def run_parent(run_id: str) -> otel_context.Context:
    """A context whose (remote) parent is the run's trace: spans started in it join that trace."""
    tid, sid = _ids(run_id)
    parent = SpanContext(trace_id=tid, span_id=sid, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(parent))


@contextmanager
def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, context: otel_context.Context | None = None,
         **attributes: Any) -> Iterator[trace.Span]:
    """A span named ``name`` with ``langorch.*`` attributes (None values left out); an
    exception leaving the block marks it failed."""
    attrs = {f"langorch.{k}": v for k, v in attributes.items() if v is not None}
    with TRACER.start_as_current_span(name, context=context, kind=kind, attributes=attrs,
                                      record_exception=True, set_status_on_exception=False) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:300]))
            raise


def inject(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """``headers`` with the current span's ``traceparent`` (and ``tracestate``) added."""
    propagate.inject(headers)
    return headers
