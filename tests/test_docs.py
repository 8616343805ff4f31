"""Every ``langorch`` command README.md and docs/*.md show uses files in the repository and,
unless it needs a server, a database or your own agents, runs as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.docs_commands import DOC_FILES, REPO, Command, commands

_PLACEHOLDER = re.compile(r"\b(FILE|FILE_OR_DIR|RUN_ID|INTERRUPT_ID|ID|URL|DIR|PATH|KEY=VALUE)\b|\.\.\.|…| / ")
_NEEDS_SERVICE = ("serve", "worker", "migrate", "import")
_LANGORCH = re.compile(r"^(?:[A-Z_]+=\S+\s+)*(?:\.venv/bin/)?langorch\s+(\S+)")


def _langorch_commands() -> list[Command]:
    return [c for path in DOC_FILES for c in commands(path) if _LANGORCH.match(c.text)]


def _is_synopsis(command: Command) -> bool:
    return bool(_PLACEHOLDER.search(command.text)) or ("[" in command.text and "]" in command.text)


def _files_named(command: Command) -> list[str]:
    """The .json files a command reads (not those it writes with ``>``)."""
    words = shlex.split(command.text.split(">")[0].split("|")[0])
    return [w for w in words if w.endswith(".json") and not w.startswith(("-", "--"))]


def _runnable(command: Command) -> bool:
    sub = _LANGORCH.match(command.text)
    assert sub is not None
    if _is_synopsis(command) or sub.group(1) in _NEEDS_SERVICE:
        return False
    if "--agent" in command.text or "--mcp" in command.text:
        return False  # needs your own agents; the same flows run in test mode elsewhere in the docs
    return command.text.startswith(".venv/bin/") or "ckp_examples/" in command.text or "docs/" in command.text


COMMANDS = [c for c in _langorch_commands() if not _is_synopsis(c)]
RUNNABLE = [c for c in COMMANDS if _runnable(c)]


def test_the_docs_show_commands_that_run() -> None:
    assert len(RUNNABLE) >= 15, [c.text for c in RUNNABLE]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c.doc}:{c.line}")
def test_a_documented_command_names_files_in_the_repository(command: Command) -> None:
    for name in _files_named(command):
        matches = list(REPO.glob(name))
        assert matches, f"{command.doc}:{command.line}: `{command.text}` names {name}, which is not in the repository"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder that looks like the repository's root to a command (the venv and
    the examples), so commands that write (state files, schema files) write here."""
    root = tmp_path_factory.mktemp("docs")
    for name in (".venv", "ckp_examples", "docs"):
        (root / name).symlink_to(REPO / name)
    return root


@pytest.mark.parametrize("command", RUNNABLE, ids=lambda c: f"{c.doc}:{c.line}")
def test_a_documented_command_runs_as_written(command: Command, sandbox: Path) -> None:
    text = command.text if command.text.startswith(".venv/") else re.sub(r"(^|\s)langorch\s", r"\1.venv/bin/langorch ",
                                                                           command.text, count=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LANGORCH_DB"))}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", text], cwd=sandbox, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, env=env)
    # 3 = the run waits for a person; a doc that shows another exit code says "(exit N)" / "exits N".
    source = (REPO / ("README.md" if command.doc == "README.md" else f"docs/{command.doc}")).read_text().splitlines()
    line = source[command.line - 1]
    end = line.find(command.text[-12:])
    said = re.search(r"exits? (\d)", line[end:] if end >= 0 else "")
    expected = {0, 3} if said is None else {int(said.group(1))}
    assert done.returncode in expected, (f"{command.doc}:{command.line}: `{command.text}` exited "
                                         f"{done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    assert "Traceback" not in done.stderr, done.stderr
    printed = (done.stdout + done.stderr).splitlines()
    for line in command.shown:
        assert line in printed, f"{command.doc}:{command.line}: the doc shows {line!r}; the command printed:\n" \
                                + "\n".join(printed[-20:])


def test_the_first_procedure_in_the_language_guide_is_the_file_it_names() -> None:
    guide = (REPO / "docs" / "ckp.md").read_text()
    shown = guide.split("This is `docs/greet.ckp.json` in the repository:\n\n```json\n", 1)[1].split("```", 1)[0]
    assert shown == (REPO / "docs" / "greet.ckp.json").read_text()
