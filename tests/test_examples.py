"""Every procedure in ``ckp_examples/`` runs to the end against real loopback fakes.

Each example is compiled with the real compiler and run by the real runtime (LangGraph
on an ``InMemorySaver``): agent steps go over HTTP to a :class:`FakeAgentServer`
registered for every channel the procedure uses, LLM calls go through the real
OpenAI-compatible connector to a :class:`FakeLlmServer`, idempotency records live in the
real SQLite step store, and subflows resolve from the examples folder. Every pending
approval is approved, one interrupt id at a time, until the run ends.

Conventions for files in ``ckp_examples/`` (so files added later are covered too):

* inputs come from a sibling ``<name>.inputs.json`` (``foo.ckp.json`` → ``foo.inputs.json``
  or ``foo.ckp.inputs.json``) when there is one, else from the variables' defaults;
* the run must end ``completed``, unless the description says ``Expected status: <status>``;
* scripted agent results and LLM replies may be given in ``<name>.fakes.json`` as
  ``{"agent_results": {action: result}, "llm_replies": [{"match": text, "reply": value}]}``;
  otherwise agents answer ``{"ok": true, "action": ..., "echo": params}`` and the LLM
  answers a value shaped like the requested JSON schema.

The seed workflows (invoice, support, contract review) are scripted below so they take
their happy path, and each has tests for the paths that make it interesting.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from langgraph.checkpoint.memory import InMemorySaver

from langorch.ckp import compile_text
from langorch.ckp.catalog import CHANNEL_CATALOG
from langorch.ckp.ir import ProcedureIR, SequencePayload, TerminatePayload
from langorch.connectors.agents import HttpAgentClient
from langorch.connectors.llm import OpenAICompatibleLlm
from langorch.connectors.local_state import SqliteStepStore
from langorch.run_cli import FolderResolver
from langorch.runtime.context import Services
from langorch.runtime.errors import InputError
from langorch.runtime.inputs import validate_inputs
from langorch.runtime.ports import RunEvent
from langorch.runtime.runner import PendingApproval, Runner, RunOutcome
from tests.fakes.agent_server import FakeAgentServer
from tests.fakes.llm_server import FakeLlmServer

EXAMPLES = Path(__file__).resolve().parent.parent / "ckp_examples"
_SIDECARS = (".inputs.json", ".fakes.json", ".expected.json")
_EXPECTED_STATUS = re.compile(r"expected status:\s*(completed|failed|canceled|waiting_approval)", re.IGNORECASE)
APPROVE = {"decision": "approve", "decided_by": "pytest", "comment": "looks good"}
REJECT = {"decision": "reject", "decided_by": "pytest", "comment": "not acceptable"}


def example_files() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.json") if not p.name.endswith(_SIDECARS))


def _sidecar(path: Path, suffix: str) -> Path | None:
    stem = path.name.removesuffix(".json")
    for name in (f"{stem}{suffix}", f"{stem.removesuffix('.ckp')}{suffix}"):
        candidate = path.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def _load_sidecar(path: Path, suffix: str) -> Any:
    found = _sidecar(path, suffix)
    return json.loads(found.read_text(encoding="utf-8")) if found else None


# ----------------------------------------------------------------------------- scripted world
# Agent results per action (a value, or a function of the call's params) and LLM replies
# chosen by a marker in the system prompt (or the prompt), for the three seed workflows.

def _po_lookup(params: Mapping[str, Any]) -> Any:
    url = str(params.get("url", ""))
    if "/purchase-orders/PO-4471" in url:
        return {"status_code": 200, "headers": {}, "body": {
            "po_number": "PO-4471", "vendor_id": "V-10442", "status": "open", "amount": "12450.00",
            "currency": "USD", "lines": [
                {"sku": "SKU-100", "po_unit_price": 45.0, "po_quantity": 200},
                {"sku": "SKU-200", "po_unit_price": 1725.0, "po_quantity": 2},
            ]}}
    raise ValueError(f"unexpected http_request {params.get('method')} {url}")


def _cases_lookup(params: Mapping[str, Any]) -> Any:
    url = str(params.get("url", ""))
    if url.endswith("/customers/C-7781/cases"):
        return {"status_code": 200, "headers": {}, "body": {"cases": [
            {"case_id": "CS-5120", "subject": "Invoice PDF missing for February", "status": "open"}]}}
    raise ValueError(f"unexpected http_request {params.get('method')} {url}")


INVOICE = {
    "vendor_name": "Acme Industrial Supply", "vendor_id": "V-10442", "invoice_number": "INV-88412",
    "invoice_date": "2025-03-03", "po_number": "PO-4471", "currency": "USD", "total_amount": 12450.0,
    "tax_amount": 0.0, "bank_account": "DE89 3704 0044 0532 0130 00",
    "line_items": [
        {"sku": "SKU-100", "description": "Hex bolts M8, box of 100", "quantity": 200, "unit_price": 45.0},
        {"sku": "SKU-200", "description": "Hydraulic pump HP-2", "quantity": 2, "unit_price": 1725.0},
    ],
}
LOW_RISK = {"risk_score": 0.12, "flags": [], "recommendation": "approve",
            "rationale": "Vendor, PO, prices and totals agree."}

CLASSIFICATION = {"category": "billing", "urgency": "medium", "sentiment": "negative",
                  "summary": "The customer was charged twice for March and wants the duplicate refunded."}
REPLY = {"subject": "Your March invoice", "body": "Hi Dana, thanks for telling us about the double charge on your "
         "March invoice. Our billing team is looking into it and will update this ticket. - Acme Cloud billing team",
         "internal_note": "Check payment processor for duplicate capture."}


def _assessment(level: str, domain: str) -> dict[str, Any]:
    return {"risk_level": level, "findings": [f"{domain} terms reviewed"], "blocking_issues": [],
            "recommendation": f"{domain} terms are acceptable"}


SCRIPTS: dict[str, dict[str, Any]] = {
    "invoice_processing": {
        "agent_results": {
            "ocr_extract": {"text": "ACME INDUSTRIAL SUPPLY  INVOICE INV-88412  Date 03/03/2025  PO: PO-4471\n"
                                    "SKU-100 Hex bolts M8 x100  200 @ 45.00  9,000.00\n"
                                    "SKU-200 Hydraulic pump HP-2  2 @ 1,725.00  3,450.00\n"
                                    "TOTAL USD 12,450.00   IBAN DE89 3704 0044 0532 0130 00",
                            "pages": 1, "confidence": 0.97},
            "http_request": _po_lookup,
            "post_invoice": {"document_id": "5100004471", "status": "posted"},
            "archive_document": {"archive_id": "ARC-2025-0042", "retention": "7y"},
            "send_email": {"message_id": "msg-ap-1", "status": "sent"},
        },
        "llm_replies": [
            {"match": "accounts-payable extraction assistant", "reply": INVOICE},
            {"match": "fraud and anomaly analyst", "reply": LOW_RISK},
        ],
    },
    "customer_support_triage": {
        "agent_results": {
            "get_ticket": {"ticket_id": "TCK-20931", "customer_id": "C-7781", "channel": "email",
                           "subject": "Charged twice this month",
                           "body": "Hi, I was charged twice for my March invoice. Please refund one of them.",
                           "status": "open", "requester_email": "dana@example.org"},
            "get_account": {"customer_id": "C-7781", "plan": "Business", "tier": "smb", "since": "2021-04-01"},
            "http_request": _cases_lookup,
            "escalate_ticket": {"queue": "tier2", "paged": True},
            "update_ticket": {"updated": True},
            "send_email": {"message_id": "msg-support-1", "status": "sent"},
        },
        "llm_replies": [
            {"match": "support triage classifier", "reply": CLASSIFICATION},
            {"match": "You write replies for the", "reply": REPLY},
        ],
    },
    "contract_review": {
        "agent_results": {
            "fetch_document": {"file_id": "file-9f2c", "name": "CTR-2025-0107.docx"},
            "parse_document": {"text": "MASTER SERVICES AGREEMENT between Initech LLC (Customer) and Globex "
                                       "Corporation (Provider), effective 2025-04-01, governed by the laws of "
                                       "the State of Delaware. Fees: USD 20,000 per month...", "pages": 14},
            "create_envelope": {"envelope_id": "env-5531", "status": "sent"},
            "update_contract": {"updated": True},
            "send_email": {"message_id": "msg-legal-1", "status": "sent"},
        },
        "llm_replies": [
            {"match": "You are a contract analyst", "reply": {
                "parties": [{"name": "Initech LLC", "role": "customer"},
                            {"name": "Globex Corporation", "role": "provider"}],
                "effective_date": "2025-04-01", "jurisdiction": "US-DE", "governing_law": "Delaware",
                "contract_type": "master services agreement", "term_months": 12, "auto_renewal": False,
                "key_obligations": ["monthly fees", "99.9% uptime"], "termination_conditions": "90 days notice"}},
            {"match": "You are a senior legal counsel", "reply": _assessment("medium", "legal")},
            {"match": "You are a commercial director", "reply": _assessment("low", "commercial")},
            {"match": "You are a security and privacy officer", "reply": _assessment("high", "security")},
            {"match": "You are a contract manager", "reply": "Security rejected the contract: renegotiate the "
                                                            "data-residency and breach-notification clauses."},
        ],
    },
}

# What the happy path of each seed workflow produces.
EXPECTED_OUTPUTS: dict[str, dict[str, Any]] = {
    "invoice_processing": {"invoice_number": "INV-88412", "erp_document_id": "5100004471",
                           "approval_route": "human", "total_amount": 12450.0},
    "customer_support_triage": {"resolution": "replied", "category": "billing", "assigned_team": "billing",
                                "message_id": "msg-support-1"},
    "contract_review": {"outcome": "sent_for_signature", "envelope_id": "env-5531",
                        "approved_domains": ["legal", "commercial", "security"]},
}


# ----------------------------------------------------------------------------- the rig
class EventLog:
    """The EventSink port as a list."""

    def __init__(self) -> None:
        self.events: list[RunEvent] = []

    async def emit(self, event: RunEvent) -> None:
        self.events.append(event)

    def of(self, type_: str) -> list[RunEvent]:
        return [e for e in self.events if e.type == type_]

    def nodes_started(self) -> list[str]:
        return [str(e.node_id) for e in self.of("node_started")]


async def _no_wait(seconds: float) -> None:
    """Services.sleep for tests: retries and wait_ms do not slow the suite down."""


def _wants_json(body: Mapping[str, Any]) -> bool:
    fmt = body.get("response_format")
    return isinstance(fmt, Mapping) and fmt.get("type") in ("json_object", "json_schema")


def _sample(schema: Any) -> Any:
    """A value shaped like a (simple) JSON schema, for LLM calls no script covers."""
    if not isinstance(schema, Mapping):
        return "sample"
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {name: _sample(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [_sample(schema.get("items", {})) for _ in range(int(schema.get("minItems", 1)))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    return "sample"


def _message_text(body: Mapping[str, Any], role: str) -> str:
    parts: list[str] = []
    for message in body.get("messages") or []:
        if isinstance(message, Mapping) and message.get("role") == role:
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return "\n".join(parts)


def llm_responder(rules: Sequence[Mapping[str, Any]]) -> Callable[[dict[str, Any]], Any]:
    """Reply with the first rule whose ``match`` occurs in the system prompt (else the prompt)."""

    def respond(body: dict[str, Any]) -> Any:
        system, user = _message_text(body, "system"), _message_text(body, "user")
        for rule in rules:
            if str(rule["match"]) in (system or user):
                return rule["reply"]
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            return _sample((fmt.get("json_schema") or {}).get("schema") or {})
        if _wants_json(body):
            return {"answer": "ok", "echo": user[:200]}
        return f"echo: {user[:200]}"

    return respond


def channels_of(ir: ProcedureIR) -> set[str]:
    """Every agent channel a procedure may call: node agents, step agents, the catalog's."""
    channels = {*CHANNEL_CATALOG, "MasterAgent"}
    for node in ir.nodes.values():
        if node.agent:
            channels.add(node.agent)
        steps = list(node.payload.steps) if isinstance(node.payload, SequencePayload) else []
        for handler in node.error_handlers:
            steps.extend(handler.recovery_steps)
        channels.update(s.binding.channel for s in steps if s.binding.kind == "agent" and s.binding.channel)
    return channels


def compile_example(path: Path) -> ProcedureIR:
    result = compile_text(path.read_text(encoding="utf-8"))
    assert result.ir is not None, [d.format(str(path)) for d in result.errors]
    return result.ir


def example_inputs(path: Path, ir: ProcedureIR, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    raw = dict(_load_sidecar(path, ".inputs.json") or {})
    raw.update(overrides or {})
    return validate_inputs(ir, raw)


@dataclass
class Rig:
    """One procedure wired to the fakes; ``run`` drives it through every approval."""

    ir: ProcedureIR
    runner: Runner
    agent: FakeAgentServer
    llm: FakeLlmServer
    events: EventLog
    store: SqliteStepStore
    decisions: list[tuple[str, str]] = field(default_factory=list)
    """(node_id, decision) for every approval decided, in order."""

    async def run(self, inputs: Mapping[str, Any], *, run_id: str = "run-1",
                  decide: Callable[[PendingApproval], Mapping[str, Any]] | None = None,
                  pick: Callable[[list[PendingApproval]], PendingApproval] | None = None,
                  max_decisions: int = 50, mode: str | None = None) -> RunOutcome:
        outcome = await self.runner.start(self.ir, run_id, dict(inputs), mode=mode)
        known: set[str] = set()
        while outcome.status == "waiting_approval":
            assert len(self.decisions) < max_decisions, "too many approvals; is the procedure looping?"
            known.update(p.interrupt_id for p in outcome.pending)
            pending = (pick or (lambda items: items[0]))(outcome.pending)
            decision = dict((decide or (lambda _: APPROVE))(pending))
            self.decisions.append((pending.node_id, str(decision["decision"])))
            outcome = await self.runner.resume(self.ir, run_id, decision, interrupt_id=pending.interrupt_id,
                                               known_interrupts=known)
        return outcome

    def llm_prompts(self) -> list[str]:
        return [_message_text(body, "system") + "\n" + _message_text(body, "user") for body in self.llm.requests]


@asynccontextmanager
async def rigged(path: Path, tmp_path: Path, *, agent_results: Mapping[str, Any] | None = None,
                 llm_replies: Sequence[Mapping[str, Any]] | None = None) -> AsyncIterator[Rig]:
    ir = compile_example(path)
    script = SCRIPTS.get(ir.procedure_id) or _load_sidecar(path, ".fakes.json") or {}
    results = {**script.get("agent_results", {}), **(agent_results or {})}
    rules = [*(llm_replies or []), *script.get("llm_replies", [])]
    events = EventLog()
    with FakeAgentServer(results) as agent, FakeLlmServer(llm_responder(rules)) as llm:
        agents = HttpAgentClient({channel: agent.url for channel in channels_of(ir)})
        client = OpenAICompatibleLlm(base_url=llm.base_url, api_key="test-key")
        conn = await aiosqlite.connect(str(tmp_path / "steps.db"))
        try:
            store = await SqliteStepStore.create(conn)
            services = Services(events=events, agents=agents, llm=client, step_store=store,
                                resolver=FolderResolver(str(EXAMPLES)), sleep=_no_wait, workdir=str(tmp_path),
                                default_model="gpt-4o-mini")
            yield Rig(ir, Runner(services, InMemorySaver()), agent, llm, events, store)
        finally:
            await conn.close()
            await client.aclose()
            await agents.aclose()


def expected_status(ir: ProcedureIR, path: Path) -> str:
    sidecar = _load_sidecar(path, ".expected.json") or {}
    if sidecar.get("status"):
        return str(sidecar["status"])
    match = _EXPECTED_STATUS.search(ir.description or "")
    return match.group(1).lower() if match else "completed"


def _describe(outcome: RunOutcome, events: EventLog) -> str:
    failures = [f"{e.node_id}: {e.payload.get('error')}" for e in events.of("node_failed")]
    return f"status={outcome.status} error={outcome.error} last_node={outcome.last_node} failures={failures}"


# ----------------------------------------------------------------------------- every example
@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
@pytest.mark.asyncio
async def test_example_runs_to_completion(path: Path, tmp_path: Path) -> None:
    ir = compile_example(path)
    inputs = example_inputs(path, ir)
    async with rigged(path, tmp_path) as rig:
        outcome = await rig.run(inputs)
    assert outcome.status == expected_status(ir, path), _describe(outcome, rig.events)
    assert rig.events.of("run_started") and rig.events.events[0].type == "run_started"
    assert len(rig.events.of("approval_decided")) == len(rig.decisions)
    last = ir.nodes.get(outcome.last_node or "")
    if last is not None and isinstance(last.payload, TerminatePayload):
        assert set(outcome.outputs) == set(last.payload.outputs), outcome.outputs
        if ir.procedure_id in SCRIPTS:  # scripted fakes: every output has a real value
            assert all(value is not None for value in outcome.outputs.values()), outcome.outputs
    for key, value in EXPECTED_OUTPUTS.get(ir.procedure_id, {}).items():
        assert outcome.outputs.get(key) == value, (key, outcome.outputs)
    timeline = json.dumps([e.payload for e in rig.events.events], default=str)
    for name in ir.sensitive_names:
        if name in inputs:
            assert rig.events.of("run_started")[0].payload["inputs"][name] == "***"
            if isinstance(inputs[name], str) and len(inputs[name]) >= 4:
                assert inputs[name] not in timeline, f"sensitive {name} leaked into an event"


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
@pytest.mark.asyncio
async def test_example_runs_in_test_mode_without_reaching_an_agent_or_llm(path: Path, tmp_path: Path) -> None:
    """After `make run` a newcomer has no agents and no LLM key: test mode runs every
    example from its own global_config.test_data_overrides, approvals included."""
    ir = compile_example(path)
    inputs = example_inputs(path, ir)
    async with rigged(path, tmp_path) as rig:
        outcome = await rig.run(inputs, mode="test")
    assert outcome.status == expected_status(ir, path), _describe(outcome, rig.events)
    assert rig.agent.calls == [] and rig.llm.requests == []
    assert rig.events.of("run_started")[0].payload["mode"] == "test"
    for key, value in EXPECTED_OUTPUTS.get(ir.procedure_id, {}).items():
        assert outcome.outputs.get(key) == value, (key, outcome.outputs)
    if ir.procedure_id in SCRIPTS:  # the seed workflows take their path through a person
        assert rig.decisions, "the showcase run in test mode stops at an approval"
        assert not rig.events.of("step_mock_applied"), "every external call has test data"


# ----------------------------------------------------------------------------- the seed workflows' schemas
SEED_FILES = ["invoice_processing.ckp.json", "customer_support.ckp.json", "contract_review.ckp.json"]
BAD_INPUTS = {
    "invoice_processing.ckp.json": {"vendor_id": "10442", "approval_threshold": -5, "currency": "JPY",
                                    "vendor_bank_account": "not-an-iban"},
    "customer_support.ckp.json": {"ticket_id": "20931", "max_reply_chars": 99999, "escalation_queue": "tier9",
                                  "callback_phone": "call me"},
    "contract_review.ckp.json": {"contract_id": "C-1", "contract_value": -1, "esign_provider": "fax",
                                 "counterparty_tax_id": "123"},
}


@pytest.mark.parametrize("name", SEED_FILES)
def test_seed_workflow_compiles_without_warnings_and_checks_its_inputs(name: str) -> None:
    path = EXAMPLES / name
    result = compile_text(path.read_text(encoding="utf-8"))
    assert result.ir is not None and result.diagnostics == [], [d.format(name) for d in result.diagnostics]
    ir = result.ir
    assert "Expected status" not in ir.description and len(ir.description) > 400
    assert ir.global_config.max_cost_usd is not None and ir.global_config.on_failure
    assert len(ir.sensitive_names) == 1
    validate_inputs(ir, {})  # every input has a usable default
    with pytest.raises(InputError) as caught:
        validate_inputs(ir, BAD_INPUTS[name])
    assert {problem.field for problem in caught.value.problems} == set(BAD_INPUTS[name])


# ----------------------------------------------------------------------------- invoice
INVOICE_FILE = EXAMPLES / "invoice_processing.ckp.json"


@pytest.mark.asyncio
async def test_invoice_over_threshold_waits_for_the_manager(tmp_path: Path) -> None:
    ir = compile_example(INVOICE_FILE)
    async with rigged(INVOICE_FILE, tmp_path) as rig:
        outcome = await rig.run(example_inputs(INVOICE_FILE, ir))
    assert outcome.status == "completed", _describe(outcome, rig.events)
    assert rig.decisions == [("manager_review", "approve")]
    route = [e.payload for e in rig.events.of("route_selected") if e.node_id == "route_by_risk"]
    assert [(r["rule"], r["next_node"]) for r in route] == [(2, "manager_review")]  # the amount rule
    request = rig.events.of("approval_requested")[0].payload
    assert request["approval_level"] == "manager" and request["timeout_action"] == "escalate"
    assert request["context_data"]["vendor_bank_account"] == "***"
    assert request["context_data"]["bank_details_changed"] is False
    assert outcome.vars["manager_decision"] == "approved"
    assert outcome.outputs["approved_by"] == "pytest"
    assert len(rig.agent.calls_for("post_invoice")) == 1
    assert rig.agent.calls_for("post_invoice")[0]["params"]["body"]["total_amount"] == 12450.0
    # the loop priced both lines and the transform matched them to the PO
    assert [line["line_total"] for line in outcome.vars["priced_lines"]] == [9000.0, 3450.0]
    assert outcome.vars["unmatched_lines"] == [] and outcome.vars["line_stats"]["computed_total"] == 12450.0
    # two LLM calls, accounted once each, under the budget
    assert len(rig.events.of("llm_usage")) == 2
    assert outcome.usage["llm_calls"] == 2 and 0 < outcome.usage["cost_usd"] < 0.25
    assert (tmp_path / "run-1" / "invoice_ocr.json").is_file()  # in the run's work folder


@pytest.mark.asyncio
async def test_invoice_within_policy_is_auto_approved_and_posted_once(tmp_path: Path) -> None:
    ir = compile_example(INVOICE_FILE)
    inputs = example_inputs(INVOICE_FILE, ir, {"approval_threshold": 20000})
    async with rigged(INVOICE_FILE, tmp_path) as rig:
        first = await rig.run(inputs, run_id="run-a")
        # the same invoice again (a duplicate delivery): the ERP posting is reused, not repeated
        second = await rig.run(inputs, run_id="run-b")
    assert first.status == second.status == "completed", _describe(second, rig.events)
    assert rig.decisions == []
    assert first.outputs["approval_route"] == "auto" and first.outputs["approved_by"] == "policy:auto-approve"
    assert second.outputs["erp_document_id"] == "5100004471"
    assert len(rig.agent.calls_for("post_invoice")) == 1
    cached = [e for e in rig.events.of("step_completed") if e.payload.get("cached")]
    assert [e.node_id for e in cached] == ["update_erp"]
    assert "erp-post-V-10442-INV-88412" in cached[0].payload["idempotency_key"]


@pytest.mark.asyncio
async def test_invoice_risky_or_rerouted_payment_is_reviewed_and_can_be_rejected(tmp_path: Path) -> None:
    risky = {**INVOICE, "bank_account": "GB33BUKB20201555555555"}
    ir = compile_example(INVOICE_FILE)
    inputs = example_inputs(INVOICE_FILE, ir, {"approval_threshold": 20000})
    async with rigged(INVOICE_FILE, tmp_path, llm_replies=[
        {"match": "accounts-payable extraction assistant", "reply": risky},
        {"match": "fraud and anomaly analyst", "reply": {"risk_score": 0.82, "flags": ["bank account changed"],
                                                        "recommendation": "reject", "rationale": "new IBAN"}},
    ]) as rig:
        outcome = await rig.run(inputs, decide=lambda _: REJECT)
    assert outcome.status == "failed", _describe(outcome, rig.events)
    assert outcome.last_node == "invoice_rejected"
    assert rig.decisions == [("manager_review", "reject")]
    assert outcome.vars["bank_details_changed"] is True
    assert rig.agent.calls_for("post_invoice") == []
    assert len(rig.agent.calls_for("send_email")) == 1
    assert "Payment account differs from the vendor master: true" in rig.llm_prompts()[1]


@pytest.mark.asyncio
async def test_invoice_manager_timeout_escalates_to_the_controller(tmp_path: Path) -> None:
    ir = compile_example(INVOICE_FILE)

    def decide(pending: PendingApproval) -> Mapping[str, Any]:
        return {"decision": "timeout"} if pending.node_id == "manager_review" else APPROVE

    async with rigged(INVOICE_FILE, tmp_path) as rig:
        outcome = await rig.run(example_inputs(INVOICE_FILE, ir), decide=decide)
    assert outcome.status == "completed", _describe(outcome, rig.events)
    assert rig.decisions == [("manager_review", "timeout"), ("escalate_to_controller", "approve")]
    assert outcome.vars["manager_decision"] == "timed_out"
    assert outcome.vars["controller_decision"] == "approved"
    assert rig.events.of("approval_requested")[1].payload["approval_level"] == "executive"


@pytest.mark.asyncio
async def test_invoice_unreadable_extraction_ends_failed_without_posting(tmp_path: Path) -> None:
    ir = compile_example(INVOICE_FILE)
    unreadable = {**INVOICE, "po_number": "", "total_amount": 0.0}
    async with rigged(INVOICE_FILE, tmp_path, llm_replies=[
        {"match": "accounts-payable extraction assistant", "reply": unreadable}]) as rig:
        outcome = await rig.run(example_inputs(INVOICE_FILE, ir))
    assert outcome.status == "failed" and outcome.last_node == "extraction_failed"
    assert outcome.outputs["failed_checks"] == ["total_positive", "po_number_format"]
    assert rig.agent.calls_for("http_request") == [] and rig.agent.calls_for("post_invoice") == []


# ----------------------------------------------------------------------------- customer support
SUPPORT_FILE = EXAMPLES / "customer_support.ckp.json"


@pytest.mark.asyncio
async def test_support_routine_billing_ticket_is_answered_without_review(tmp_path: Path) -> None:
    ir = compile_example(SUPPORT_FILE)
    async with rigged(SUPPORT_FILE, tmp_path) as rig:
        outcome = await rig.run(example_inputs(SUPPORT_FILE, ir))
    assert outcome.status == "completed", _describe(outcome, rig.events)
    assert rig.decisions == []
    started = rig.events.nodes_started()
    assert "route_billing" in started and "escalate_ticket" not in started
    joined = rig.events.of("parallel_joined")
    assert [e.payload["completed"] for e in joined] == [["account", "cases"]]
    assert outcome.vars["open_case_count"] == 1
    assert rig.agent.calls_for("send_email")[0]["params"]["recipients"] == ["dana@example.org"]
    assert rig.agent.calls_for("escalate_ticket") == []


@pytest.mark.asyncio
async def test_support_high_priority_ticket_routes_to_escalation(tmp_path: Path) -> None:
    ir = compile_example(SUPPORT_FILE)
    urgent = {**CLASSIFICATION, "category": "technical", "urgency": "high", "sentiment": "frustrated",
              "summary": "Production API returns 500 for every request."}
    async with rigged(SUPPORT_FILE, tmp_path, llm_replies=[
        {"match": "support triage classifier", "reply": urgent}]) as rig:
        outcome = await rig.run(example_inputs(SUPPORT_FILE, ir, {"escalation_queue": "on_call"}))
    assert outcome.status == "completed", _describe(outcome, rig.events)
    route = [e.payload for e in rig.events.of("route_selected") if e.node_id == "route_ticket"]
    assert route[0]["next_node"] == "escalate_ticket" and route[0]["rule"] == 1
    escalation = rig.agent.calls_for("escalate_ticket")
    assert len(escalation) == 1 and escalation[0]["params"]["value"]["queue"] == "on_call"
    assert rig.decisions == [("supervisor_approval", "approve")]
    request = rig.events.of("approval_requested")[0].payload
    assert request["context_data"]["callback_phone"] == "***"
    assert outcome.outputs["assigned_team"] == "on_call" and outcome.outputs["reviewed"] is True
    assert outcome.outputs["resolution"] == "replied"


@pytest.mark.asyncio
async def test_support_rejected_draft_is_handed_to_a_person(tmp_path: Path) -> None:
    ir = compile_example(SUPPORT_FILE)
    critical = {**CLASSIFICATION, "category": "account", "urgency": "critical"}
    async with rigged(SUPPORT_FILE, tmp_path, llm_replies=[
        {"match": "support triage classifier", "reply": critical}]) as rig:
        outcome = await rig.run(example_inputs(SUPPORT_FILE, ir), decide=lambda _: REJECT)
    assert outcome.status == "completed" and outcome.last_node == "handed_off"
    assert outcome.outputs["resolution"] == "handed_off" and outcome.outputs["assigned_team"] == "tier2"
    assert rig.agent.calls_for("send_email") == []
    assert rig.agent.calls_for("update_ticket")[0]["params"]["value"]["status"] == "open"


@pytest.mark.asyncio
async def test_support_reply_with_a_card_number_is_not_sent(tmp_path: Path) -> None:
    ir = compile_example(SUPPORT_FILE)
    leaky = {**REPLY, "body": "We refunded the card 4111 1111 1111 1111 today."}
    async with rigged(SUPPORT_FILE, tmp_path, llm_replies=[
        {"match": "You write replies for the", "reply": leaky}]) as rig:
        outcome = await rig.run(example_inputs(SUPPORT_FILE, ir))
    assert outcome.status == "completed" and outcome.last_node == "handed_off"
    assert outcome.vars["verification"]["failed"] == ["no_card_numbers"]
    assert rig.agent.calls_for("send_email") == []


# ----------------------------------------------------------------------------- contract review
CONTRACT_FILE = EXAMPLES / "contract_review.ckp.json"
GATES = {"legal_sign_off", "commercial_sign_off", "security_sign_off"}


@pytest.mark.asyncio
async def test_contract_three_parallel_gates_approved_in_any_order(tmp_path: Path) -> None:
    ir = compile_example(CONTRACT_FILE)
    seen: list[set[str]] = []

    def last_first(pending: list[PendingApproval]) -> PendingApproval:
        seen.append({p.node_id for p in pending})
        return pending[-1]

    async with rigged(CONTRACT_FILE, tmp_path) as rig:
        outcome = await rig.run(example_inputs(CONTRACT_FILE, ir), pick=last_first)
    assert outcome.status == "completed", _describe(outcome, rig.events)
    # all three gates wait at once; each decision leaves the others pending
    assert seen[0] == GATES and len(seen[1]) == 2 and len(seen[2]) == 1
    assert {node for node, _ in rig.decisions} == GATES and len(rig.decisions) == 3
    assert len(rig.events.of("approval_requested")) == 3
    assert {e.payload["node_id"] for e in rig.events.of("approval_decided")} == GATES
    joined = [e.payload for e in rig.events.of("parallel_joined")]
    assert [(j["completed"], j["failed"]) for j in joined] == [(["commercial", "legal", "security"], [])]
    assert outcome.outputs["high_risk_domains"] == ["security"]
    assert len(rig.agent.calls_for("create_envelope")) == 1
    assert rig.agent.calls_for("update_contract")[0]["params"]["value"]["status"] == "awaiting_signature"
    commercial = next(e for e in rig.events.of("approval_requested") if e.node_id == "commercial_sign_off")
    assert commercial.payload["context_data"]["counterparty_tax_id"] == "***"
    assert outcome.usage["llm_calls"] == 4


@pytest.mark.asyncio
async def test_contract_one_rejection_ends_failed_with_a_revision_brief(tmp_path: Path) -> None:
    ir = compile_example(CONTRACT_FILE)

    def decide(pending: PendingApproval) -> Mapping[str, Any]:
        return REJECT if pending.node_id == "security_sign_off" else APPROVE

    def security_first(pending: list[PendingApproval]) -> PendingApproval:
        return next((p for p in pending if p.node_id == "security_sign_off"), pending[0])

    async with rigged(CONTRACT_FILE, tmp_path) as rig:
        outcome = await rig.run(example_inputs(CONTRACT_FILE, ir), decide=decide, pick=security_first)
    assert outcome.status == "failed", _describe(outcome, rig.events)
    assert outcome.last_node == "contract_rejected"
    assert rig.decisions[0] == ("security_sign_off", "reject") and len(rig.decisions) == 3
    assert outcome.outputs["rejected_domains"] == ["security"]
    assert outcome.outputs["revision_brief"].startswith("Security rejected the contract")
    assert outcome.vars["legal_decision"] == outcome.vars["commercial_decision"] == "approved"
    assert outcome.vars["security_decision"] == "rejected"
    assert rig.agent.calls_for("create_envelope") == []
    mail = rig.agent.calls_for("send_email")
    assert len(mail) == 1 and mail[0]["params"]["subject"] == "Contract CTR-2025-0107 needs revision (security)"


@pytest.mark.asyncio
async def test_contract_with_missing_metadata_is_sent_back(tmp_path: Path) -> None:
    ir = compile_example(CONTRACT_FILE)
    thin = {"parties": [{"name": "Globex Corporation", "role": "provider"}], "effective_date": "", "jurisdiction": "",
            "governing_law": "", "contract_type": "msa", "term_months": 12, "auto_renewal": True,
            "key_obligations": [], "termination_conditions": ""}
    async with rigged(CONTRACT_FILE, tmp_path, llm_replies=[
        {"match": "You are a contract analyst", "reply": thin}]) as rig:
        outcome = await rig.run(example_inputs(CONTRACT_FILE, ir))
    assert outcome.status == "failed" and outcome.last_node == "metadata_rejected"
    assert outcome.outputs["failed_checks"] == ["two_parties", "jurisdiction", "effective_date"]
    assert rig.decisions == [] and len(rig.llm.requests) == 1
