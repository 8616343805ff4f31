"""The compiler's native build: the same modules compiled to C extensions by mypyc.

The compiler runs on every import, save and editor keystroke, and most of its time is
Python-level bookkeeping (walking nodes, steps and templates). ``make native`` (run by
``make test``, ``make run`` and ``make bench``) compiles the modules listed in
:data:`MODULES` with mypyc into ``backend/build/native`` and writes a manifest with the
sha256 of every source file of the package. On import, :func:`activate` puts that folder first on this
package's ``__path__`` only when every hash still matches the source beside it and the
build is for this Python; otherwise the pure-Python modules load as usual. An edited
source is therefore never shadowed by a stale build, and a checkout without a C
compiler works unchanged. ``LANGORCH_NATIVE=0`` forces pure Python (the test suite runs
the compiler tests both ways).

The native and pure modules are the same code: the build compiles the files in this
folder, nothing else.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

MODULES = (
    "binder",
    "catalog",
    "compiler",
    "cron",
    "dataflow",
    "diagnostics",
    "dialects",
    "expressions",
    "graph",
    "parser",
    "templates",
    "validator",
)
"""Modules of ``langorch.ckp`` built natively. The models stay pydantic classes and the IR
stays plain dataclasses (compiled, they build no faster and would type-check every field)."""

GROUP = "langorch_ckp"
"""mypyc's shared library for the modules: ``langorch_ckp__mypyc``, a top-level module."""

PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = Path(os.environ.get("LANGORCH_NATIVE_DIR") or PACKAGE_DIR.parents[1] / "build" / "native")
MANIFEST = "manifest.json"

status = "pure Python"
"""What :func:`activate` decided, for ``langorch --version`` and the benchmark."""

def source_hashes(package_dir: Path = PACKAGE_DIR) -> dict[str, str]:
    """sha256 of every source file of the package.

    All of them, not only :data:`MODULES`: the compiled code relies on the types of the
    models it reads, so a change to ``nodes.py`` retires the build as well.
    """
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(package_dir.glob("*.py"))}

def build_tag() -> str:
    """Which interpreter a build is for: extensions load only into the same ABI."""
    return f"{sys.implementation.cache_tag}-{sys.platform}"

def activate(package_path: list[str]) -> bool:
    """Load the native modules of this package when a build matches the sources."""
    global status
    if os.environ.get("LANGORCH_NATIVE", "1") == "0":
        status = "pure Python (LANGORCH_NATIVE=0)"
        return False
    try:
        manifest = json.loads((BUILD_DIR / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        status = "pure Python (no native build; run make native)"
        return False
    if not isinstance(manifest, dict) or manifest.get("build") != build_tag():
        status = "pure Python (the native build is for another Python)"
        return False
    try:
        current = source_hashes()
    except OSError:
        return False
    if manifest.get("sources") != current:
        status = "pure Python (sources changed since the native build; run make native)"
        return False
    package_path.insert(0, str(BUILD_DIR / "langorch" / "ckp"))
    if str(BUILD_DIR) not in sys.path:
        sys.path.append(str(BUILD_DIR))
    status = f"native (mypyc, {BUILD_DIR})"
    return True
