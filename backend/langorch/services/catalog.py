"""The action catalog: what a CKP step may call, per channel, including registered agents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from langorch.ckp.catalog import CHANNEL_CATALOG, INTERNAL_ACTIONS, LLM_ACTIONS, SIDE_EFFECT_FREE
from langorch.store.models import AgentInstance


async def action_catalog(session: AsyncSession) -> dict[str, Any]:
    """The compiler's built-in catalog merged with the capabilities agents registered."""
    agent_actions: dict[str, set[str]] = {}
    agents: dict[str, list[str]] = {}
    stmt = select(AgentInstance.agent_id, AgentInstance.channel, AgentInstance.capabilities).order_by(
        AgentInstance.agent_id)
    for agent_id, channel, capabilities in (await session.execute(stmt)).all():
        key = channel.upper()
        agents.setdefault(key, []).append(agent_id)
        caps = agent_actions.setdefault(key, set())
        for capability in capabilities or []:
            if isinstance(capability, str):
                caps.add(capability)
    channels = []
    for channel in sorted(set(CHANNEL_CATALOG) | set(agents)):
        builtin = set(CHANNEL_CATALOG.get(channel, frozenset()))
        declared = agent_actions.get(channel, set())
        channels.append({"channel": channel, "builtin_actions": sorted(builtin), "agent_actions": sorted(declared),
                         "actions": sorted(builtin | declared), "agents": agents.get(channel, [])})
    return {"internal_actions": sorted(INTERNAL_ACTIONS), "llm_actions": sorted(LLM_ACTIONS),
            "side_effect_free": sorted(SIDE_EFFECT_FREE), "channels": channels}
