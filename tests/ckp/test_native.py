"""The native (mypyc) build is used only while it matches the sources and this Python."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from langorch.ckp import dataflow, native


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(native, "BUILD_DIR", tmp_path)
    monkeypatch.delenv("LANGORCH_NATIVE", raising=False)
    monkeypatch.setattr(native, "status", native.status)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return tmp_path


def _manifest(build_dir: Path, **overrides: object) -> None:
    manifest = {"build": native.build_tag(), "sources": native.source_hashes(), **overrides}
    (build_dir / native.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_a_build_matching_the_sources_goes_first_on_the_package_path(build_dir: Path) -> None:
    _manifest(build_dir)
    package_path = ["/src/langorch/ckp"]
    assert native.activate(package_path)
    assert package_path == [str(build_dir / "langorch" / "ckp"), "/src/langorch/ckp"]
    assert str(build_dir) in sys.path
    assert native.status.startswith("native")


def test_without_a_build_the_sources_run(build_dir: Path) -> None:
    package_path = ["/src/langorch/ckp"]
    assert not native.activate(package_path)
    assert package_path == ["/src/langorch/ckp"]
    assert "no native build" in native.status


def test_an_edited_source_retires_the_build(build_dir: Path) -> None:
    sources = native.source_hashes()
    sources["dataflow.py"] = "0" * 64
    _manifest(build_dir, sources=sources)
    package_path: list[str] = []
    assert not native.activate(package_path)
    assert package_path == []
    assert "sources changed" in native.status


def test_a_build_for_another_python_is_ignored(build_dir: Path) -> None:
    _manifest(build_dir, build="cpython-399-plan9")
    assert not native.activate([])
    assert "another Python" in native.status


def test_langorch_native_0_forces_the_sources(build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _manifest(build_dir)
    monkeypatch.setenv("LANGORCH_NATIVE", "0")
    assert not native.activate([])
    assert "LANGORCH_NATIVE=0" in native.status


def test_every_compiler_source_is_in_the_hash() -> None:
    names = set(native.source_hashes())
    assert {f"{module}.py" for module in native.MODULES} <= names
    assert {"models.py", "nodes.py"} <= names


def test_the_modules_that_run_are_the_ones_the_status_names() -> None:
    compiled = Path(dataflow.__file__ or "").suffix != ".py"
    assert compiled == native.status.startswith("native")
