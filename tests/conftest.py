"""Session-wide test setup.

Some tests read the reference material beside the repository (``../shared``: CKP files
others wrote, the benchmark workloads); on a plain clone they are skipped. CI sets
``LANGORCH_REQUIRE_SHARED=1`` (``.ci/run``), and then a missing folder stops the session
with a clear error instead of letting those cases vanish from the count.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.auth_support import TEST_JWT_SECRET, TEST_SECRET_KEY
from tests.fakes.fixtures import *  # noqa: F403

# Every server a test starts (in-process or `langorch serve`) accepts tests.auth_support.bearer()
# tokens, and none writes a generated key file into the checkout.
os.environ.setdefault("LANGORCH_AUTH__JWT_SECRET", TEST_JWT_SECRET)
os.environ.setdefault("LANGORCH_SECRET_KEY", TEST_SECRET_KEY)

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_FOLDERS = ("ckp-reference", "bench/workloads")


def missing_shared_folders(root: Path = SHARED_DIR) -> list[str]:
    """The folders of ``../shared`` that tests read and that are absent."""
    return [name for name in SHARED_FOLDERS if not (root / name).is_dir()]


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("LANGORCH_REQUIRE_SHARED") != "1":
        return
    missing = missing_shared_folders()
    if missing:
        where = ", ".join(str(SHARED_DIR / name) for name in missing)
        raise pytest.UsageError(f"LANGORCH_REQUIRE_SHARED=1 but {where} is missing: the tests that read the "
                                "reference CKP files and workloads would be skipped")
