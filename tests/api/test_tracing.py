"""Traces and logs a real ``langorch serve`` produces: spans run → node → step → agent call
exported over OTLP/HTTP to a loopback collector, all in the run's trace (the id its page
shows); the agent receives the ``traceparent`` of its call; JSON log lines carry the run,
node and step ids and the trace id."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.auth_support import bearer
from tests.fakes.agent_server import FakeAgentServer
from tests.serve_process import Serve

ADMIN = bearer("admin")


class Collector:
    """An OTLP/HTTP trace receiver on loopback: keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        for span in scope.spans:
                            collector.spans.append({
                                "name": span.name, "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                                "parent": span.parent_span_id.hex(),
                                "attributes": {a.key: a.value.string_value or a.value.int_value
                                               for a in span.attributes}})
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.close()


PROCEDURE = {
    "procedure_id": "traced", "version": "1.0.0", "status": "active",
    "workflow_graph": {"start_node": "look", "nodes": {
        "look": {"type": "sequence", "agent": "CRM", "next_node": "done", "steps": [
            {"step_id": "say", "action": "log", "value": "looking up"},
            {"step_id": "lookup", "action": "lookup_customer", "customer": "C-1"}]},
        "done": {"type": "terminate", "status": "success"}}},
}


def test_a_run_is_one_trace_exported_over_otlp_and_its_log_lines_carry_its_ids(
        tmp_path: Path, collector: Collector) -> None:
    with FakeAgentServer({"lookup_customer": {"name": "Ada"}}) as agent:
        server = Serve(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "100",
                                  "LANGORCH_LOG_FORMAT": "json"})
        server.start()
        try:
            with httpx.Client(base_url=server.url, headers=ADMIN, timeout=10) as http:
                http.post("/api/agents", json={"agent_id": "crm", "name": "CRM", "channel": "CRM",
                                               "base_url": agent.url}).raise_for_status()
                http.post("/api/procedures", json={"ckp_json": PROCEDURE}).raise_for_status()
                run_id = http.post("/api/runs", json={"procedure_id": "traced"}).json()["run_id"]
                deadline = time.monotonic() + 30
                while (run := http.get(f"/api/runs/{run_id}").json())["status"] != "completed":
                    assert run["status"] not in ("failed", "canceled") and time.monotonic() < deadline, run
                    time.sleep(0.1)
            deadline = time.monotonic() + 15
            while not any(s["name"] == "run traced" for s in collector.spans):
                assert time.monotonic() < deadline, collector.spans
                time.sleep(0.1)
        finally:
            server.stop()
        calls = agent.calls_for("lookup_customer")

    trace_id = run["trace_id"]
    spans = {s["name"]: s for s in collector.spans if s["trace_id"] == trace_id}
    assert {"run traced", "node look", "step say", "step lookup", "agent CRM.lookup_customer"} <= set(spans)
    assert spans["node look"]["parent"] == spans["run traced"]["span_id"]
    assert spans["step lookup"]["parent"] == spans["node look"]["span_id"]
    assert spans["agent CRM.lookup_customer"]["parent"] == spans["step lookup"]["span_id"]
    assert spans["step lookup"]["attributes"]["langorch.run_id"] == run_id
    assert spans["step lookup"]["attributes"]["langorch.node_id"] == "look"
    # The agent received the context of its call's span: its own spans would join the trace.
    traceparent = calls[0]["headers"]["traceparent"]
    assert traceparent.split("-")[1] == trace_id
    assert traceparent.split("-")[2] == spans["agent CRM.lookup_customer"]["span_id"]

    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    said = [line for line in lines if line.get("message") == "looking up"]
    assert said and said[0]["run_id"] == run_id and said[0]["node_id"] == "look" and said[0]["step_id"] == "say"
    assert said[0]["trace_id"] == trace_id
