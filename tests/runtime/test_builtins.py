"""Built-in variables every template may read without declaring them (catalog.BUILTIN_VARIABLES)."""

from __future__ import annotations

from typing import Any

import pytest

from langorch.ckp.catalog import BUILTIN_VARIABLES
from tests.runtime.harness import Harness, ckp, end, server_services, setvar


def _echo(template: str) -> dict[str, Any]:
    return ckp({"s": setvar("seen", template, next_node="done"), "done": end(outputs={"seen": "{{seen}}"})},
               variables={})


@pytest.mark.asyncio
async def test_env_name_is_development_unless_the_services_say_otherwise() -> None:
    out = await Harness().run(_echo("{{env_name}}"))
    assert out.status == "completed", out.error
    assert out.outputs == {"seen": "development"}


@pytest.mark.asyncio
async def test_env_name_comes_from_the_services() -> None:
    h = Harness()
    services = h.services()
    services.env_name = "staging"
    from langorch.runtime.runner import Runner
    from tests.runtime.harness import compile_ok

    out = await Runner(services, h.checkpointer).start(compile_ok(_echo("deploy to {{env_name}}")), "r", {})
    assert out.outputs == {"seen": "deploy to staging"}


@pytest.mark.asyncio
async def test_the_server_takes_env_name_from_langorch_env_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_ENV_NAME", "production-eu")
    services = await server_services()
    assert services.env_name == "production-eu"


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(BUILTIN_VARIABLES))
async def test_every_builtin_the_compiler_accepts_is_defined_at_run_time(name: str) -> None:
    out = await Harness().run(_echo(f"{{{{ {name} is defined }}}}"))
    assert out.status == "completed", out.error
    assert out.outputs == {"seen": True}
