"""Settings read from the environment."""

from __future__ import annotations

import pytest

from langorch.settings import Settings


@pytest.mark.parametrize("raw", ["erp.internal, 10.20.0.0/16 ,127.0.0.1",
                                 '["erp.internal", "10.20.0.0/16", "127.0.0.1"]'])
def test_sandbox_allowed_hosts_take_a_comma_list_or_json(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_SANDBOX__ALLOWED_HOSTS", raw)

    assert Settings().sandbox.allowed_hosts == ["erp.internal", "10.20.0.0/16", "127.0.0.1"]


def test_the_sandbox_allows_nothing_private_by_default() -> None:
    assert Settings().sandbox.allowed_hosts == []
