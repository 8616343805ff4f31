"""The CKP compiler: parse → validate → bind → IR. Pure: no DB, no network, no runtime."""

from langorch.ckp import native

native.activate(__path__)  # the mypyc build of the modules below, when it matches them

from langorch.ckp.compiler import CompileResult, compile_data, compile_text  # noqa: E402
from langorch.ckp.diagnostics import Code, Diagnostic, Severity  # noqa: E402
from langorch.ckp.ir import ProcedureIR  # noqa: E402
from langorch.ckp.schema import ckp_json_schema  # noqa: E402

__all__ = [
    "Code",
    "CompileResult",
    "Diagnostic",
    "ProcedureIR",
    "Severity",
    "ckp_json_schema",
    "compile_data",
    "compile_text",
]
