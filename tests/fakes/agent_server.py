"""A real loopback agent speaking the LangOrch agent protocol (see docs/agents.md).

In a test::

    with FakeAgentServer(results={"login": {"session": "s-1"}}) as agent:
        client = HttpAgentClient({"WEB": agent.url})
        ...
        assert agent.calls[0]["action"] == "login"

As a process (a crash test SIGKILLs a run and counts the agent's calls from the log)::

    python -m tests.fakes.agent_server --port 8765 --log /tmp/agent-calls.jsonl

The process prints ``listening on http://127.0.0.1:PORT`` once it is ready.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from tests.fakes._http import Failure, JsonReply, LoopbackJsonServer, take_failure

ActionResult = Any | Callable[[dict[str, Any]], Any]


class FakeAgentServer(LoopbackJsonServer):
    """``POST /execute`` and ``GET /health`` on 127.0.0.1, scripted per action.

    ``results`` maps an action to its result, or to a callable receiving the call's
    ``params`` and returning the result; other actions answer
    ``{"ok": True, "action": action, "echo": params}``. Every call is recorded in
    :attr:`calls` and, when ``log_path`` is set, appended to that file as one JSON line.

    It honours ``Idempotency-Key`` as docs/agents.md asks of an agent: a call whose key
    was already performed gets the first call's answer without acting again (waiting for
    it when the first is still in flight); such calls are recorded with ``"replay": true``,
    so :attr:`performed` lists the calls that really acted.
    """

    def __init__(
        self,
        results: Mapping[str, ActionResult] | None = None,
        *,
        delays: Mapping[str, float] | None = None,
        log_path: str | Path | None = None,
        name: str = "fake-agent",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host, port)
        self.name = name
        self._results: dict[str, ActionResult] = dict(results or {})
        self._delays: dict[str, float] = dict(delays or {})
        self._failures: list[Failure] = []
        self._calls: list[dict[str, Any]] = []
        self._answers: dict[str, JsonReply] = {}
        self._in_flight: dict[str, threading.Event] = {}
        self._log_path = Path(log_path) if log_path is not None else None
        self.health_status = 200

    # -- scripting -------------------------------------------------------------------

    def set_result(self, action: str, result: ActionResult) -> None:
        """Answer ``action`` with ``result`` (a value, or a callable of the params)."""
        with self.lock:
            self._results[action] = result

    def set_delay(self, action: str, seconds: float) -> None:
        """Sleep ``seconds`` before answering ``action`` (for timeout tests)."""
        with self.lock:
            self._delays[action] = seconds

    def fail_next(
        self, status: int = 500, *, times: int = 1, body: Any = None, action: str | None = None
    ) -> None:
        """Answer the next ``times`` calls (of ``action``, or any) with HTTP ``status``.

        ``body`` defaults to ``{"error": {"type": "FakeFailure", "message": ...}}``; a
        ``str`` body is sent as plain text.
        """
        if body is None:
            body = {"error": {"type": "FakeFailure", "message": f"scripted HTTP {status}"}}
        reply = JsonReply(status, raw=body) if isinstance(body, str) else JsonReply(status, body)
        with self.lock:
            self._failures.append(Failure(reply, times, action))

    def error_next(
        self,
        error: str | Mapping[str, Any] | None = None,
        *,
        times: int = 1,
        action: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls with HTTP 200 and ``{"error": error}``."""
        if error is None:
            error = {"type": "ElementNotFoundException", "message": "scripted agent error", "code": "E_FAKE"}
        payload: Any = error if isinstance(error, str) else dict(error)
        with self.lock:
            self._failures.append(Failure(JsonReply(200, {"error": payload}), times, action))

    # -- inspection ------------------------------------------------------------------

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every ``/execute`` request body received so far, in order (a copy)."""
        with self.lock:
            return list(self._calls)

    @property
    def performed(self) -> list[dict[str, Any]]:
        """The calls that acted (not answered from an earlier call with the same key)."""
        return [call for call in self.calls if not call.get("replay")]

    def calls_for(self, action: str) -> list[dict[str, Any]]:
        """The recorded calls of one action."""
        return [call for call in self.calls if call.get("action") == action]

    # -- serving ---------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Any, headers: dict[str, str]) -> JsonReply:
        route = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and route == "/health":
            with self.lock:
                actions = sorted(self._results)
            return JsonReply(self.health_status, {"status": "ok", "name": self.name, "actions": actions})
        if method != "POST" or route != "/execute":
            return JsonReply(404, {"error": {"type": "NotFound", "message": f"no route {method} {path}"}})
        if not isinstance(body, dict) or not isinstance(body.get("action"), str):
            return JsonReply(
                400, {"error": {"type": "BadRequest", "message": "body needs a string 'action'"}}
            )

        action: str = body["action"]
        raw_params = body.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        key = headers.get("idempotency-key")
        if key is None:
            self._record(body, None, replay=False, headers=headers)
            return self._perform(action, params)
        with self.lock:
            earlier = self._in_flight.get(key)
            if earlier is None:
                self._in_flight[key] = threading.Event()
        self._record(body, key, replay=earlier is not None, headers=headers)
        if earlier is not None:
            earlier.wait(60)
            with self.lock:
                answer = self._answers.get(key)
            if answer is not None:
                return answer
            # the first delivery failed: this one acts
        reply = self._perform(action, params)
        with self.lock:
            event = self._in_flight.get(key)
            if reply.status == 200 and not (isinstance(reply.body, dict) and "error" in reply.body):
                self._answers[key] = reply
            else:
                self._in_flight.pop(key, None)  # a failed delivery did not act: the next one may
        if event is not None:
            event.set()
        return reply

    def _perform(self, action: str, params: dict[str, Any]) -> JsonReply:
        with self.lock:
            delay = self._delays.get(action, 0.0)
            failure = take_failure(self._failures, action)
            scripted = self._results.get(action, _DEFAULT)
        if delay:
            time.sleep(delay)
        if failure is not None:
            return failure
        if scripted is _DEFAULT:
            result: Any = {"ok": True, "action": action, "echo": params}
        elif callable(scripted):
            try:
                result = scripted(params)
            except Exception as exc:  # a scripted callable failing is an agent error, not a crash
                return JsonReply(500, {"error": {"type": type(exc).__name__, "message": str(exc)}})
        else:
            result = scripted
        return JsonReply(200, {"result": result})

    def _record(self, body: dict[str, Any], key: str | None, *, replay: bool, headers: dict[str, str]) -> None:
        kept = {k: v for k, v in headers.items() if k in ("traceparent", "tracestate")}
        entry = {**body, "received_at": time.time(), "idempotency_key_header": key, "replay": replay,
                 "headers": kept}
        with self.lock:
            self._calls.append(entry)
            if self._log_path is not None:
                # One line per call, flushed at once: a test reads this file while we run.
                with self._log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(entry, sort_keys=True) + "\n")
                    log.flush()


_DEFAULT = object()


def main(argv: list[str] | None = None) -> int:
    """Run a fake agent as a process until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.agent_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--log", type=Path, default=None, help="append each call as one JSON line")
    parser.add_argument("--name", default="fake-agent")
    parser.add_argument(
        "--result",
        action="append",
        default=[],
        metavar="ACTION=JSON",
        help="scripted result for an action (repeatable)",
    )
    parser.add_argument(
        "--delay", action="append", default=[], metavar="ACTION=SECONDS", help="sleep before answering"
    )
    args = parser.parse_args(argv)

    results = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.result)}
    delays = {k: float(v) for k, v in (item.split("=", 1) for item in args.delay)}
    server = FakeAgentServer(
        results, delays=delays, log_path=args.log, name=args.name, host=args.host, port=args.port
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with server:
        sys.stdout.write(f"listening on {server.url}\n")
        sys.stdout.flush()
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
