"""The secrets providers a server, worker or ``langorch run`` uses, built from the settings.

``global_config.secrets_config.provider`` picks one per procedure: ``env_vars`` (default),
``langorch``/``builtin`` (the built-in store), ``hashicorp_vault``, ``aws_secrets``,
``azure_keyvault``. All but env keep values for ``LANGORCH_SECRETS__CACHE_TTL_S`` seconds.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from langorch.ckp.ir import SecretRef
from langorch.connectors.secrets import AwsSecrets, AzureKeyVaultSecrets, EnvSecrets, RoutingSecrets, VaultSecrets
from langorch.runtime.ports import SecretsProvider
from langorch.services.secret_store import StoreSecrets, keyring_for
from langorch.settings import SecretsSettings

__all__ = ["LazyStoreSecrets", "build_secrets"]


def build_secrets(settings: SecretsSettings, store: SecretsProvider | None = None) -> RoutingSecrets:
    """A :class:`RoutingSecrets` over every provider, configured from ``settings``
    (``LANGORCH_SECRETS__*``); ``store`` is the built-in store's provider, when there is a
    database."""
    ttl = settings.cache_ttl_s
    providers: dict[str, SecretsProvider] = {
        "env_vars": EnvSecrets(prefix=settings.env_prefix),
        "hashicorp_vault": VaultSecrets(
            settings.vault_addr,
            token=settings.vault_token.get_secret_value() if settings.vault_token else None,
            namespace=settings.vault_namespace, mount_point=settings.vault_mount,
            kv_version=2 if settings.vault_kv_version == 2 else 1,
            role_id=settings.vault_role_id,
            secret_id=settings.vault_secret_id.get_secret_value() if settings.vault_secret_id else None,
            approle_mount=settings.vault_approle_mount, cache_ttl_s=ttl),
        "aws_secrets": AwsSecrets(region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url,
                                  profile_name=settings.aws_profile, cache_ttl_s=ttl),
        "azure_keyvault": AzureKeyVaultSecrets(settings.azure_vault_url, cache_ttl_s=ttl),
    }
    if store is not None:
        providers["langorch"] = store
    return RoutingSecrets(providers, env_prefix=settings.env_prefix, cache_ttl_s=ttl)


class LazyStoreSecrets:
    """The built-in store over the database at ``url``, opened on the first read (for
    ``langorch run``, which needs no database unless a procedure uses the store)."""

    def __init__(self, url: str, settings: SecretsSettings, stack: AsyncExitStack) -> None:
        self._url = url
        self._settings = settings
        self._stack = stack
        self._store: StoreSecrets | None = None

    async def get(self, ref: SecretRef, *, run_id: str | None = None) -> Any:
        if self._store is None:
            from langorch.store.db import make_engine, make_sessionmaker

            engine: AsyncEngine = make_engine(self._url)
            self._stack.push_async_callback(engine.dispose)
            sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
            self._store = StoreSecrets(sessions, keyring_for(self._settings), cache_ttl_s=self._settings.cache_ttl_s)
        # a `langorch run` run is no run of the server's database: only global secrets apply
        return await self._store.get(ref)
