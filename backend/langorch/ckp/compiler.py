"""The compiler's front door: text or data → diagnostics and, when clean, the IR."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langorch.ckp.binder import bind
from langorch.ckp.dataflow import Reaching
from langorch.ckp.diagnostics import Diagnostic, Severity, has_errors
from langorch.ckp.graph import analyze
from langorch.ckp.ir import ProcedureIR
from langorch.ckp.nodes import Procedure
from langorch.ckp.parser import ParseResult, parse_data, parse_text
from langorch.ckp.validator import SubflowResolver, validate_with_reaching


@dataclass
class CompileResult:
    """Diagnostics always; ``ir`` only when there are no errors."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    ir: ProcedureIR | None = None
    procedure: Procedure | None = None
    raw: dict[str, Any] | None = None
    reaching: Reaching | None = None
    """The data-flow analysis' known variables per node; set once the document parsed."""

    @property
    def scopes(self) -> dict[str, list[str]]:
        """For each node id, the sorted variables known when the node starts (declared,
        built-in, or written by a node it can be reached from); empty when the document
        did not parse. Spelled out on each access: an editor's completion lists, not
        something every compile pays for."""
        return self.reaching.scopes() if self.reaching is not None else {}

    @property
    def ok(self) -> bool:
        return self.ir is not None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def compile_text(text: str | bytes, resolver: SubflowResolver | None = None) -> CompileResult:
    """Compile CKP JSON text. Never raises for bad input."""
    return _finish(parse_text(text), resolver)


def compile_data(data: Any, resolver: SubflowResolver | None = None) -> CompileResult:
    """Compile an already-decoded CKP document. Never raises for bad input."""
    return _finish(parse_data(data), resolver)


def _finish(parsed: ParseResult, resolver: SubflowResolver | None) -> CompileResult:
    diagnostics = list(parsed.diagnostics)
    result = CompileResult(diagnostics, None, parsed.procedure, parsed.raw)
    if parsed.procedure is None or parsed.raw is None:
        return result
    facts = analyze(parsed.procedure.workflow_graph.nodes)
    problems, result.reaching = validate_with_reaching(parsed.procedure, parsed.raw, parsed.invalid_nodes,
                                                       resolver, facts)
    diagnostics.extend(problems)
    if has_errors(diagnostics):
        return result
    result.ir = bind(parsed.procedure, parsed.raw, facts)
    return result
