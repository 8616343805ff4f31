"""sequence nodes: internal actions, agent steps on a loopback agent, output capture,
waits, timeouts, retries with backoff, error handlers and validations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from langorch.connectors.agents import HttpAgentClient
from tests.fakes.agent_server import FakeAgentServer
from tests.runtime.harness import Harness, RecordingSleep, TinyHttp, ckp, compile_ok, end, seq


@pytest_asyncio.fixture
async def agents(fake_agent: FakeAgentServer) -> AsyncIterator[HttpAgentClient]:
    async with HttpAgentClient({"WEB": fake_agent.url, "API": fake_agent.url}) as client:
        yield client


def _harness(agents: HttpAgentClient | None = None) -> Harness:
    return Harness(agents=agents, sleep=RecordingSleep())


# ----------------------------------------------------------------------------- internal actions
@pytest.mark.asyncio
async def test_internal_log_wait_and_set_variable_run_in_order_and_set_variables() -> None:
    h = Harness()
    doc = ckp({
        "a": seq({"step_id": "hello", "action": "log", "message": "hi {{name}}", "level": "warning"},
                 {"step_id": "setx", "action": "set_variable", "variable": "x", "value": "{{name}}!"},
                 {"step_id": "pause", "action": "wait", "duration_ms": 20, "output_variable": "waited"},
                 next_node="done"),
        "done": end(outputs={"x": "{{x}}"}),
    }, variables={"name": {"type": "string", "required": True}})

    out = await h.run(doc, {"name": "bob"})

    assert out.status == "completed"
    assert out.outputs == {"x": "bob!"}
    assert out.vars["waited"] == {"waited_ms": 20.0}
    assert h.events.payloads("log") == [{"level": "WARNING", "message": "hi bob"}]
    assert [e.step_id for e in h.events.of("step_completed")] == ["hello", "setx", "pause"]
    assert h.events.types()[0] == "run_started" and h.events.types()[-1] == "run_completed"


@pytest.mark.asyncio
async def test_http_request_step_calls_the_url_and_captures_status_and_body(http_service: TinyHttp) -> None:
    h = Harness()
    doc = ckp({
        "call": seq({"action": "http_request", "method": "POST", "url": f"{http_service.url}/orders",
                     "headers": {"X-Token": "t-1"}, "body": {"id": "{{order}}"}, "output_variable": "resp"},
                    next_node="done"),
        "done": end(),
    }, variables={"order": {"type": "string", "default": "o-7"}})

    out = await h.run(doc, {"order": "o-7"})

    assert out.status == "completed"
    assert out.vars["resp"]["status_code"] == 200
    assert out.vars["resp"]["body"] == {"method": "POST", "path": "/orders", "body": {"id": "o-7"},
                                        "x_token": "t-1"}
    assert http_service.seen[0]["method"] == "POST"


@pytest.mark.asyncio
async def test_http_error_status_fails_the_run_with_the_status_code(http_service: TinyHttp) -> None:
    h = Harness()
    doc = ckp({"call": seq({"action": "http_request", "url": f"{http_service.url}/status/404"}, next_node="done"),
               "done": end()})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None
    assert out.error["status_code"] == 404 and out.error["type"] == "HTTP404"
    assert out.error["node_id"] == "call"
    assert len(http_service.seen) == 1  # 4xx is not retryable


# ----------------------------------------------------------------------------- agent steps
@pytest.mark.asyncio
async def test_agent_step_posts_rendered_params_and_captures_the_result(
        fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.set_result("navigate", {"title": "Portal"})
    h = _harness(agents)
    doc = ckp({
        "open": seq({"step_id": "go", "action": "navigate", "target": "{{base}}/login", "output_variable": "page"},
                    agent="WEB", next_node="done"),
        "done": end(outputs={"title": "{{page.title}}"}),
    }, variables={"base": {"type": "string", "default": "https://portal.test"}})

    out = await h.run(doc, run_id="run-agent")

    assert out.status == "completed", out.error
    assert out.outputs == {"title": "Portal"}
    call = fake_agent.calls[0]
    assert call["action"] == "navigate"
    assert call["params"] == {"target": "https://portal.test/login"}
    assert (call["run_id"], call["node_id"], call["step_id"]) == ("run-agent", "open", "go")


@pytest.mark.asyncio
async def test_wait_after_ms_sleeps_after_the_step(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    h = _harness(agents)
    doc = ckp({"a": seq({"action": "click", "target": "#ok", "wait_after_ms": 250}, agent="WEB", next_node="done"),
               "done": end()})

    out = await h.run(doc)

    assert out.status == "completed"
    assert h.sleep.delays == [0.25]
    assert len(fake_agent.calls) == 1


@pytest.mark.asyncio
async def test_step_timeout_emits_step_timeout_and_fails(fake_agent: FakeAgentServer,
                                                         agents: HttpAgentClient) -> None:
    fake_agent.set_delay("click", 0.5)
    h = _harness(agents)
    doc = ckp({"a": seq({"step_id": "slow", "action": "click", "timeout_ms": 100, "retry_on_failure": False},
                        agent="WEB", next_node="done"),
               "done": end()})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "TimeoutException"
    timeouts = h.events.of("step_timeout")
    assert len(timeouts) == 1 and timeouts[0].step_id == "slow"
    assert timeouts[0].payload["timeout_ms"] == 100


@pytest.mark.asyncio
async def test_global_max_retries_retry_with_exponential_backoff(fake_agent: FakeAgentServer,
                                                                 agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503, times=2)
    h = _harness(agents)
    doc = ckp({"a": seq({"action": "click", "target": "#go", "output_variable": "r"}, agent="WEB",
                        next_node="done"),
               "done": end()}, global_config={"max_retries": 3, "retry_delay_ms": 100})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert len(fake_agent.calls) == 3
    assert [p["attempt"] for p in h.events.payloads("step_retry")] == [1, 2]
    first, second = h.sleep.delays
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2  # base, then doubled (with jitter)


@pytest.mark.asyncio
async def test_node_max_retries_overrides_global(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(500, times=5)
    h = _harness(agents)
    doc = ckp({"a": seq({"action": "click"}, agent="WEB", max_retries=1, retry_delay_ms=10, next_node="done"),
               "done": end()}, global_config={"max_retries": 4})

    out = await h.run(doc)

    assert out.status == "failed"
    assert len(fake_agent.calls) == 2


@pytest.mark.asyncio
async def test_step_max_retries_overrides_node_and_global(fake_agent: FakeAgentServer,
                                                          agents: HttpAgentClient) -> None:
    fake_agent.fail_next(500, times=3)
    h = _harness(agents)
    doc = ckp({"a": seq({"action": "click", "max_retries": 3, "retry_delay_ms": 10}, agent="WEB",
                        max_retries=0, next_node="done"),
               "done": end()}, global_config={"max_retries": 0})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert len(fake_agent.calls) == 4


@pytest.mark.asyncio
async def test_non_retryable_errors_are_not_retried(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(400, times=5)
    h = _harness(agents)
    doc = ckp({"a": seq({"action": "click"}, agent="WEB", next_node="done"), "done": end()},
              global_config={"max_retries": 3, "retry_delay_ms": 10})

    out = await h.run(doc)

    assert out.status == "failed"
    assert len(fake_agent.calls) == 1
    assert h.events.of("step_retry") == []


# ----------------------------------------------------------------------------- error handlers
@pytest.mark.asyncio
async def test_retry_handler_runs_recovery_steps_before_each_retry(fake_agent: FakeAgentServer,
                                                                   agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503, times=2, action="click")
    h = _harness(agents)
    doc = ckp({"a": seq({"step_id": "press", "action": "click", "target": "#b"}, agent="WEB", next_node="done",
                        error_handlers=[{"action": "retry", "max_retries": 3, "delay_ms": 50,
                                         "trigger": {"http_status_codes": [503]},
                                         "recovery_steps": [{"step_id": "reload", "action": "navigate",
                                                             "target": "https://portal.test"}]}]),
               "done": end()})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert [c["action"] for c in fake_agent.calls] == ["click", "navigate", "click", "navigate", "click"]
    assert len(h.events.of("step_retry")) == 2
    assert h.sleep.delays == [0.05, 0.05]


@pytest.mark.asyncio
async def test_ignore_handler_lets_the_run_continue(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.error_next({"type": "ElementNotFoundException", "message": "no #banner"})
    h = _harness(agents)
    doc = ckp({"a": seq({"step_id": "dismiss", "action": "click", "target": "#banner", "output_variable": "r"},
                        {"step_id": "after", "action": "log", "message": "went on", "agent": "MasterAgent"},
                        agent="WEB", next_node="done",
                        error_handlers=[{"error_type": "ElementNotFoundException", "action": "ignore"}]),
               "done": end()})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.vars["r"] is None
    failed = h.events.payloads("step_failed")
    assert failed and failed[0]["handled_by"] == "ignore"
    assert h.events.payloads("log")[0]["message"] == "went on"


@pytest.mark.asyncio
async def test_fail_handler_fails_without_retrying(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(503, times=3)
    h = _harness(agents)
    doc = ckp({"a": seq({"action": "click"}, agent="WEB", next_node="done",
                        error_handlers=[{"action": "fail", "trigger": {"http_status_codes": [503]}}]),
               "done": end()}, global_config={"max_retries": 3})

    out = await h.run(doc)

    assert out.status == "failed"
    assert len(fake_agent.calls) == 1


@pytest.mark.asyncio
async def test_fallback_node_handler_routes_with_the_error(fake_agent: FakeAgentServer,
                                                           agents: HttpAgentClient) -> None:
    fake_agent.fail_next(500, times=1)
    h = _harness(agents)
    doc = ckp({
        "a": seq({"action": "click"}, agent="WEB", next_node="done",
                 error_handlers=[{"action": "fallback_node", "fallback_node": "manual"}]),
        "manual": seq({"action": "log", "message": "fallback after: {{error.message}}"}, next_node="done"),
        "done": end(),
    })

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.last_node == "done"
    assert "HTTP 500" in h.events.payloads("log")[0]["message"]
    assert h.events.payloads("node_failed")[0]["fallback_node"] == "manual"


@pytest.mark.asyncio
async def test_handlers_match_by_error_text_and_skip_non_matching(fake_agent: FakeAgentServer,
                                                                  agents: HttpAgentClient) -> None:
    fake_agent.error_next({"type": "AgentError", "message": "session expired, log in again"}, times=1)
    h = _harness(agents)
    doc = ckp({
        "a": seq({"action": "click"}, agent="WEB", next_node="done",
                 error_handlers=[
                     {"action": "fallback_node", "fallback_node": "wrong", "trigger": {"http_status_codes": [502]}},
                     {"action": "fallback_node", "fallback_node": "relogin",
                      "trigger": {"error_text_contains": "SESSION EXPIRED"}},
                 ]),
        "wrong": end("failed"),
        "relogin": end(outputs={"via": "relogin"}),
        "done": end(),
    })

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert out.outputs == {"via": "relogin"}


@pytest.mark.asyncio
async def test_handlers_match_by_http_status(fake_agent: FakeAgentServer, agents: HttpAgentClient) -> None:
    fake_agent.fail_next(429, times=1)
    h = _harness(agents)
    doc = ckp({
        "a": seq({"action": "click"}, agent="WEB", next_node="done",
                 error_handlers=[
                     {"action": "fallback_node", "fallback_node": "server", "trigger": {"http_status_codes": [500]}},
                     {"action": "fallback_node", "fallback_node": "throttled",
                      "trigger": {"http_status_codes": [429]}},
                 ]),
        "server": end(outputs={"via": "server"}),
        "throttled": end(outputs={"via": "throttled"}),
        "done": end(),
    })

    out = await h.run(doc)

    assert out.outputs == {"via": "throttled"}


# ----------------------------------------------------------------------------- validations
@pytest.mark.asyncio
async def test_failed_validation_fails_the_node_and_warn_only_warns() -> None:
    h = Harness()
    doc = ckp({
        "a": seq({"action": "set_variable", "variable": "total", "value": 5},
                 next_node="done",
                 validations=[
                     {"id": "soft", "condition": "total > 10", "on_failure": "warn", "message": "small total"},
                     {"id": "hard", "condition": "total > 100", "message": "total must exceed 100"},
                 ]),
        "done": end(),
    })

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None
    assert out.error["type"] == "ValidationFailed" and out.error["message"] == "total must exceed 100"
    assert h.events.payloads("validation_warning") == [{"check": "soft", "message": "small total"}]


@pytest.mark.asyncio
async def test_passing_validations_let_the_run_continue() -> None:
    h = Harness()
    doc = ckp({"a": seq({"action": "set_variable", "variable": "total", "value": 500}, next_node="done",
                        validations=[{"id": "hard", "condition": "total > 100"}]),
               "done": end()})

    out = await h.run(doc)

    assert out.status == "completed"


@pytest.mark.asyncio
async def test_write_file_creates_the_file_and_an_artifact_event(tmp_path: object) -> None:
    from pathlib import Path

    h = Harness(workdir=str(tmp_path))
    target = Path(str(tmp_path)) / "run-1" / "out" / "report.json"
    doc = ckp({"save": seq({"step_id": "write", "action": "write_file", "file_path": "out/report.json",
                            "value": {"total": "{{total}}"}}, next_node="done"), "done": end()},
              variables={"total": {"type": "number", "default": 42}})

    out = await h.run(doc)

    assert out.status == "completed", out.error
    assert target.read_text() == '{"total": 42}'
    [artifact] = h.events.payloads("artifact_created")
    assert artifact["name"] == "report.json" and artifact["mime_type"] == "application/json"
    assert artifact["size"] == len('{"total": 42}')


@pytest.mark.asyncio
@pytest.mark.parametrize(("action", "path", "rule"), [
    ("read_file", "/etc/hostname", "absolute paths are not allowed"),
    ("read_file", "../../../../etc/hostname", "'..' is not allowed"),
    ("write_file", "/tmp/langorch-escape.txt", "absolute paths are not allowed"),
    ("write_file", "reports/../../escape.txt", "'..' is not allowed"),
    ("read_file", "link/hostname", "a symbolic link leads out of the run's work folder"),
])
async def test_file_actions_stay_in_the_runs_work_folder(tmp_path: Path, action: str, path: str, rule: str) -> None:
    h = Harness(workdir=str(tmp_path / "files"))
    folder = Path(h.workdir) / "run-1"
    folder.mkdir(parents=True)
    (folder / "link").symlink_to("/etc")
    doc = ckp({"touch": seq({"step_id": "file", "action": action, "file_path": path, "value": "x"},
                            next_node="done"), "done": end()})

    out = await h.run(doc)

    assert out.status == "failed"
    assert out.error is not None and out.error["type"] == "PathNotAllowed", out.error
    assert out.error["details"] == {"path": path, "rule": rule}
    assert not Path("/tmp/langorch-escape.txt").exists() and not (tmp_path / "escape.txt").exists()


@pytest.mark.asyncio
async def test_a_retry_reads_the_files_the_run_it_retries_wrote(tmp_path: Path) -> None:
    h = Harness(workdir=str(tmp_path))
    write = ckp({"save": seq({"step_id": "w", "action": "write_file", "file_path": "state.txt", "value": "kept"},
                             next_node="done"), "done": end()})
    read = ckp({"load": seq({"step_id": "r", "action": "read_file", "file_path": "state.txt",
                             "output_variable": "got"}, next_node="done"), "done": end(outputs={"got": "{{got}}"})})

    await h.run(write, run_id="first")
    out = await h.runner().start(compile_ok(read), "retry-of-first", {}, key_run_id="first")

    assert out.outputs == {"got": "kept"}
