"""The shell commands README.md and docs/*.md show, read out of their Markdown.

Used by tests/test_readme.py (the README's walkthrough against a live server) and
tests/test_docs.py (every ``langorch`` command the docs show is run, or at least names
files that exist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
WALKTHROUGH_MARK = "<!-- walkthrough:"
_FENCE = re.compile(r"^```(\w*)\s*$")
_INLINE = re.compile(r"`((?:\.venv/bin/)?langorch [^`]+)`")


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    text: str
    """The command with continuation lines joined and a trailing comment removed."""
    shown: tuple[str, ...] = ()
    """The output the doc shows under a ``$ `` prompt (until the next prompt)."""


def _strip_comment(line: str) -> str:
    """``cmd  # note`` → ``cmd`` (a # inside quotes stays)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def shell_blocks(path: Path) -> list[tuple[int, str, list[str]]]:
    """(first line number, the line before the fence, lines) of each bash/sh/console/plain block."""
    blocks: list[tuple[int, str, list[str]]] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match:
            before = lines[i - 1] if i else ""
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if match.group(1) in ("bash", "sh", "console", "shell", ""):
                blocks.append((i - len(body) + 1, before, body))
        i += 1
    return blocks


def walkthrough(path: Path = REPO / "README.md") -> list[str]:
    """The lines of the block marked as the walkthrough."""
    for _, before, body in shell_blocks(path):
        if before.startswith(WALKTHROUGH_MARK):
            return body
    raise LookupError(f"{path.name} has no block after {WALKTHROUGH_MARK!r}")


def commands(path: Path) -> list[Command]:
    """Every command line of the shell blocks (``$ `` prompts understood) and every
    inline-code ``langorch …`` command of ``path``."""
    out: list[Command] = []
    for first, before, body in shell_blocks(path):
        if before.startswith(WALKTHROUGH_MARK):
            continue
        pending = ""
        prompted = any(raw.startswith("$ ") for raw in body)
        for offset, raw in enumerate(body):
            if prompted and not raw.startswith("$ "):
                if out and out[-1].doc == path.name and out[-1].line < first + offset:
                    last = out[-1]
                    out[-1] = Command(last.doc, last.line, last.text, (*last.shown, raw))
                continue
            line = raw[2:] if raw.startswith("$ ") else raw
            if raw.startswith(("  ", "\t")) and not pending and not raw.strip().startswith(("-", ".venv", "langorch")):
                continue  # output shown under a prompt
            if pending:
                line = pending + " " + line.strip()
            if line.rstrip().endswith("\\"):
                pending = line.rstrip()[:-1].rstrip()
                continue
            pending = ""
            text = _strip_comment(line).strip()
            if text:
                out.append(Command(path.name, first + offset, text))
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in _INLINE.finditer(line):
            out.append(Command(path.name, number, match.group(1).strip()))
    return out
