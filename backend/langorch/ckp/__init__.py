"""The CKP compiler: parse → validate → bind → IR. Pure: no DB, no network, no runtime."""

from langorch.ckp.compiler import CompileResult, compile_data, compile_text
from langorch.ckp.diagnostics import Code, Diagnostic, Severity
from langorch.ckp.ir import ProcedureIR
from langorch.ckp.schema import ckp_json_schema

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
