"""Each run's work folder: where a procedure's file actions, attachments and spreadsheet
reads are confined.

A path in a CKP is untrusted content. It is taken relative to the run's folder —
``<Services.workdir>/<run>`` (a retry shares the folder of the run it retries, so it finds
the files that run wrote) — and refused with ``PathNotAllowed`` when it is absolute, climbs
with ``..``, or leads out of the folder through a symbolic link.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from langorch.runtime.errors import StepError

__all__ = ["PathNotAllowed", "confined_path", "run_folder"]


class PathNotAllowed(StepError):
    """A procedure named a file outside its run's work folder."""

    def __init__(self, raw: str, rule: str) -> None:
        super().__init__(f"path {raw!r} refused: {rule}; file paths are relative to the run's work folder",
                         error_type="PathNotAllowed", retryable=False, details={"path": raw, "rule": rule})


def run_folder(workdir: str, run_id: str) -> Path:
    """The work folder of ``run_id`` under ``workdir`` (not created here)."""
    return Path(workdir).resolve() / run_id


def confined_path(workdir: str, run_id: str, raw: str) -> Path:
    """``raw`` inside the run's folder, or :class:`PathNotAllowed` naming the rule it breaks."""
    text = raw.strip()
    if not text:
        raise PathNotAllowed(raw, "the path is empty")
    if "\x00" in text:
        raise PathNotAllowed(raw, "the path holds a NUL byte")
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or text.startswith("~"):
        raise PathNotAllowed(raw, "absolute paths are not allowed")
    if ".." in posix.parts or ".." in windows.parts:
        raise PathNotAllowed(raw, "'..' is not allowed")
    base = run_folder(workdir, run_id)
    candidate = (base / posix).resolve()  # follows symbolic links that already exist
    if candidate != base and not candidate.is_relative_to(base):
        raise PathNotAllowed(raw, "a symbolic link leads out of the run's work folder")
    return candidate
