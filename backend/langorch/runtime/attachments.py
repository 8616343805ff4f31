"""llm_action attachments: files and values sent to the model beside the prompt.

Each attachment is ``{type: image|csv|text|json, source, description}``, its ``source``
already rendered. What a source means:

* **image** — an ``http(s)://`` or ``data:`` URL is sent as is; a mapping gives its
  ``url``, ``data_url`` or ``path``; any other string is a file path (relative to the
  working directory), read and sent as a base64 data URL.
* **text, csv, json** — a value that is not a string (an object, a list, a number) is
  sent as JSON. A string is a file path when it is one line and names a file, or looks
  like a path (it has a ``/`` or ``\\`` and no spaces, or ends in a file extension such as
  ``.txt``); that file's text is sent. Any other string (several lines, a sentence) is
  the content itself.

A source that renders to nothing, a path whose file does not exist and a file that
cannot be read fail the node with ``AttachmentNotFound`` / ``AttachmentUnreadable``
(not retried), naming the attachment and the path: nothing is silently dropped or sent
in place of the file. CKP has no optional attachments.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langorch.runtime.errors import StepError
from langorch.runtime.workspace import PathNotAllowed

__all__ = ["attachment_parts"]

_EXTENSION_PATH = re.compile(r"[\w.\-/\\ ~:]*[\w\-]\.[A-Za-z][A-Za-z0-9]{0,4}")
_MAX_PATH = 1024


def attachment_parts(attachments: Sequence[Any], resolve: Callable[[str], Path],
                     node_id: str) -> list[dict[str, Any]]:
    """The message content parts for rendered ``attachments``; raises StepError (see module doc).

    ``resolve`` turns a file source into a path inside the run's work folder (raising
    PathNotAllowed for one outside it)."""
    parts: list[dict[str, Any]] = []
    for index, att in enumerate(attachments):
        att = att if isinstance(att, Mapping) else {"source": att}
        kind = str(att.get("type") or "text")
        label = str(att.get("description") or kind)
        where = _Where(node_id, index, kind, label)
        source = att.get("source")
        if source is None or (isinstance(source, str) and not source.strip()):
            raise where.fail("its source is empty", "AttachmentNotFound")
        if kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(source, resolve, where)}})
            continue
        text = _text(source, resolve, where)
        parts.append({"type": "text", "text": f"[{kind} attachment: {label}]\n{text}"})
    return parts


class _Where:
    """Names one attachment in error messages."""

    def __init__(self, node_id: str, index: int, kind: str, label: str) -> None:
        self.node_id, self.index, self.kind, self.label = node_id, index, kind, label

    def fail(self, problem: str, error_type: str, path: Path | None = None) -> StepError:
        details: dict[str, Any] = {"attachment": self.index, "type": self.kind, "description": self.label}
        if path is not None:
            details["path"] = str(path)
        return StepError(f"node {self.node_id!r} attachment {self.index} ({self.label}, {self.kind}): {problem}",
                         error_type=error_type, retryable=False, details=details)


def _read(path: Path, where: _Where) -> bytes:
    if not path.exists():
        raise where.fail(f"file not found: {path}", "AttachmentNotFound", path)
    if not path.is_file():
        raise where.fail(f"not a file: {path}", "AttachmentUnreadable", path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise where.fail(f"cannot read {path}: {exc.strerror or exc}", "AttachmentUnreadable", path) from exc


def _image_url(source: Any, resolve: Callable[[str], Path], where: _Where) -> str:
    if isinstance(source, Mapping):
        found = source.get("url") or source.get("data_url") or source.get("path")
        if not isinstance(found, str) or not found.strip():
            raise where.fail("the image source is an object without a url, data_url or path",
                             "AttachmentNotFound")
        source = found
    if not isinstance(source, str):
        raise where.fail(f"an image source must be a path or a URL, got {type(source).__name__}",
                         "AttachmentNotFound")
    if source.startswith(("http://", "https://", "data:")):
        return source
    path = resolve(source.strip())
    data = _read(path, where)
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _looks_like_path(text: str) -> bool:
    if "\n" in text or len(text) >= _MAX_PATH or "://" in text or text != text.strip():
        return False
    if ("/" in text or "\\" in text) and not any(c.isspace() for c in text):
        return True
    return bool(_EXTENSION_PATH.fullmatch(text))


def _text(source: Any, resolve: Callable[[str], Path], where: _Where) -> str:
    if not isinstance(source, str):
        return json.dumps(source, indent=1, default=str)
    if "\n" in source or len(source) >= _MAX_PATH:
        return source
    try:
        path = resolve(source.strip())
    except PathNotAllowed:
        if _looks_like_path(source):
            raise
        return source  # a sentence that merely mentions '..' or '/'; not a file
    try:
        is_file = path.is_file()
    except OSError:
        is_file = False
    if not is_file and not _looks_like_path(source):
        return source
    return _read(path, where).decode("utf-8", errors="replace")
