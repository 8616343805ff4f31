"""Exporting traces: an OpenTelemetry SDK with an OTLP/HTTP exporter, configured by the
standard environment variables, or nothing.

``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns export
on; ``OTEL_SERVICE_NAME`` (default ``langorch``), ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_RESOURCE_ATTRIBUTES`` and the batch settings apply as the SDK documents them.
Without them nothing is exported, and the spans of ``runtime/tracing.py`` cost next to
nothing (the ``traceparent`` header still reaches agents).
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

_provider: Any = None


def configure() -> bool:
    """Install the exporting tracer provider once per process; True when export is on."""
    global _provider
    if _provider is not None:
        return True
    if not (os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "langorch")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    log.info("exporting traces over OTLP/HTTP")
    return True


def shutdown() -> None:
    """Export what is left (at process exit)."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None
