"""Which secrets a step's parameters ask for.

Two ways exist, and they must not be confused:

* a **template** names one secret: ``{{secrets.api_key}}`` or ``{{ secrets['api-key'] }}``
  inside ``{{ }}`` / ``{% %}``; the runtime fetches exactly the names it finds there;
* a **script** parameter (``script`` or ``code``, run by an agent such as a ``python_exec``
  executor) uses ``secrets`` as a mapping in its own language —
  ``secrets.get("api_key", "NOT_FOUND")``, ``secrets["api_key"]``. Text outside templates
  is never rendered, so ``secrets.get(`` there is not a secret named ``get``: such a step
  is sent with ``params.secrets``, the procedure's declared secrets (and only those).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["SCRIPT_PARAMS", "script_uses_secrets", "template_secret_names"]

SCRIPT_PARAMS = ("script", "code")
"""Parameters holding source code an agent runs."""

_TEMPLATE_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_ATTRIBUTE = re.compile(r"(?<![\w.])secrets\s*\.\s*([A-Za-z_]\w*)\b(?!\s*\()")
_ITEM = re.compile(r"(?<![\w.])secrets\s*\[\s*(['\"])(.+?)\1\s*\]")
_MAPPING_USE = re.compile(r"(?<![\w.'\"])secrets\s*(?:\.|\[)")


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            yield current
        elif isinstance(current, Mapping):
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)


def template_secret_names(value: Any) -> set[str]:
    """Names of the secrets the ``{{ }}`` / ``{% %}`` templates anywhere in ``value`` read."""
    names: set[str] = set()
    for text in _strings(value):
        if "secrets" not in text:
            continue
        for block in _TEMPLATE_BLOCK.findall(text):
            names.update(_ATTRIBUTE.findall(block))
            names.update(match[1] for match in _ITEM.findall(block))
    return names


def script_uses_secrets(params: Mapping[str, Any]) -> bool:
    """A ``script``/``code`` parameter (or one inside ``parameters``, as step-graph CKP files
    write it) uses ``secrets`` as a mapping outside templates."""
    nested = params.get("parameters")
    for where in (params, nested if isinstance(nested, Mapping) else {}):
        for name in SCRIPT_PARAMS:
            text = where.get(name)
            if isinstance(text, str) and "secrets" in text and _MAPPING_USE.search(_TEMPLATE_BLOCK.sub(" ", text)):
                return True
    return False
