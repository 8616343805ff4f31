"""Secrets providers: environment, HashiCorp Vault, AWS Secrets Manager, Azure Key Vault.

A procedure names its secrets; the binder turns each into a
:class:`~langorch.ckp.ir.SecretRef` ``(name, provider, key, vault_url)`` and the runtime
asks a :class:`~langorch.runtime.ports.SecretsProvider` for the value at run time, so
values never enter the IR, the checkpoints or an error message.

Keys: ``VAR`` for ``env_vars`` (read from ``LANGORCH_SECRET_VAR``, see :class:`EnvSecrets`);
``path`` or ``path#field`` for ``hashicorp_vault`` (KV v2);
``secret-id`` or ``secret-id#field`` for ``aws_secrets`` (JSON secret strings are
parsed); ``name`` or ``name#field`` for ``azure_keyvault`` (``#field`` parses the value
as JSON).

Every failure is a :class:`~langorch.runtime.errors.StepError` whose ``error_type`` is one of

    SecretNotFound         the secret or field does not exist          not retryable
    SecretAccessDenied     credentials missing, wrong or not allowed   not retryable
    SecretsUnavailable     the secrets service is down or throttling   retryable
    SecretsConfigError     the provider lacks its address              not retryable
    MissingDependency      the SDK is not installed (pip extra)        not retryable
    UnknownSecretsProvider no such provider                            not retryable
    SecretsError           anything else the SDK raised                not retryable

The cloud SDKs are imported on first use: ``pip install 'langorch[secrets]'`` adds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from langorch.ckp.ir import SecretRef
from langorch.runtime.errors import StepError
from langorch.runtime.ports import SecretsProvider

__all__ = [
    "AwsSecrets",
    "AzureKeyVaultSecrets",
    "EnvSecrets",
    "RoutingSecrets",
    "VaultSecrets",
    "provider_for",
]

_EXTRA = "pip install 'langorch[secrets]'"

PROVIDER_ALIASES: Mapping[str, str] = {
    "": "env_vars",
    "env": "env_vars",
    "env_vars": "env_vars",
    "vault": "hashicorp_vault",
    "hashicorp_vault": "hashicorp_vault",
    "aws": "aws_secrets",
    "aws_secrets": "aws_secrets",
    "azure": "azure_keyvault",
    "azure_keyvault": "azure_keyvault",
}


def _error(ref: SecretRef, error_type: str, message: str, *, retryable: bool = False) -> StepError:
    return StepError(
        f"secret {ref.name!r} ({ref.provider or 'env_vars'} key {ref.key!r}): {message}",
        error_type=error_type,
        retryable=retryable,
        details={"secret": ref.name, "provider": ref.provider, "key": ref.key},
    )


def _require(module: str, ref: SecretRef, package: str) -> ModuleType:
    """Import an optional SDK, or fail with a StepError naming the pip extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _error(
            ref, "MissingDependency", f"the {ref.provider} provider needs the package {package!r}: {_EXTRA}"
        ) from exc


def _split_key(key: str) -> tuple[str, str | None]:
    name, sep, field = key.partition("#")
    return name, (field if sep else None)


def _select(ref: SecretRef, value: Any, field: str | None) -> Any:
    if field is None:
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _error(
                ref, "SecretNotFound", f"value is not a JSON object, so it has no field {field!r}"
            ) from None
    if not isinstance(value, Mapping) or field not in value:
        raise _error(ref, "SecretNotFound", f"no field {field!r} in the secret")
    return value[field]


DEFAULT_ENV_PREFIX = "LANGORCH_SECRET_"


class EnvSecrets:
    """Reads ``<prefix><SecretRef.key>`` from the environment (a key that already starts
    with the prefix is read as it is).

    The prefix (``LANGORCH_SECRET_`` by default, ``LANGORCH_SECRETS__ENV_PREFIX`` on the
    server) is what keeps a procedure from reading any other variable of the server's
    environment — its database URL, its cloud credentials, ``HOME``: the operator exposes a
    secret to procedures by giving it the prefix. An empty prefix turns this off.

    Not cached: reading the environment costs nothing, and a value changed by the
    operator is seen by the next run.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, *, prefix: str = DEFAULT_ENV_PREFIX) -> None:
        self._environ = environ
        self.prefix = prefix

    def variable(self, key: str) -> str:
        """The environment variable a key is read from."""
        return key if key.startswith(self.prefix) else f"{self.prefix}{key}"

    async def get(self, ref: SecretRef) -> Any:
        environ = os.environ if self._environ is None else self._environ
        name = self.variable(ref.key)
        value = environ.get(name)
        if value is None:
            only = f" (procedures read only variables starting with {self.prefix})" if self.prefix else ""
            raise _error(ref, "SecretNotFound", f"environment variable {name!r} is not set{only}")
        return value


class _CachedSecrets(ABC):
    """Fetches each (vault URL, key) once per instance."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str | None, str], Any] = {}

    async def get(self, ref: SecretRef) -> Any:
        """The secret's value; raises StepError (see the module docstring)."""
        cache_key = (ref.vault_url, ref.key)
        if cache_key not in self._cache:
            self._cache[cache_key] = await self._fetch(ref)
        return self._cache[cache_key]

    def clear_cache(self) -> None:
        """Forget fetched values (e.g. after a rotation)."""
        self._cache.clear()

    @abstractmethod
    async def _fetch(self, ref: SecretRef) -> Any:
        """Read the secret from the service."""


class VaultSecrets(_CachedSecrets):
    """HashiCorp Vault, KV version 2, through ``hvac``.

    ``url`` defaults to ``VAULT_ADDR`` (a ref's ``vault_url`` wins), ``token`` to
    ``VAULT_TOKEN``, ``namespace`` to ``VAULT_NAMESPACE``. ``client`` replaces the
    ``hvac.Client`` (tests, other auth methods).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        namespace: str | None = None,
        mount_point: str = "secret",
        client: Any = None,
    ) -> None:
        super().__init__()
        self._url = url or os.environ.get("VAULT_ADDR")
        self._token = token or os.environ.get("VAULT_TOKEN")
        self._namespace = namespace or os.environ.get("VAULT_NAMESPACE")
        self._mount_point = mount_point
        self._client = client
        self._clients: dict[str, Any] = {}

    def _client_for(self, ref: SecretRef) -> Any:
        if self._client is not None:
            return self._client
        url = ref.vault_url or self._url
        if not url:
            raise _error(
                ref, "SecretsConfigError", "no Vault address: set VAULT_ADDR or secrets_config.vault_url"
            )
        if url not in self._clients:
            hvac = _require("hvac", ref, "hvac")
            self._clients[url] = hvac.Client(url=url, token=self._token, namespace=self._namespace)
        return self._clients[url]

    async def _fetch(self, ref: SecretRef) -> Any:
        path, field = _split_key(ref.key)
        client = self._client_for(ref)
        try:
            response = await asyncio.to_thread(
                client.secrets.kv.v2.read_secret_version,
                path=path,
                mount_point=self._mount_point,
                raise_on_deleted_version=True,
            )
        except Exception as exc:
            raise self._convert(ref, exc) from exc
        try:
            data = response["data"]["data"]
        except (KeyError, TypeError):
            raise _error(
                ref, "SecretsError", "Vault answered without data.data (is the mount KV v2?)"
            ) from None
        return _select(ref, data, field)

    def _convert(self, ref: SecretRef, exc: Exception) -> StepError:
        errors = _require("hvac.exceptions", ref, "hvac")
        requests_errors = _require("requests.exceptions", ref, "requests")
        if isinstance(exc, errors.InvalidPath):
            return _error(ref, "SecretNotFound", f"no secret at {self._mount_point}/{_split_key(ref.key)[0]}")
        if isinstance(exc, errors.Forbidden | errors.Unauthorized):
            return _error(ref, "SecretAccessDenied", f"Vault refused access: {type(exc).__name__}")
        transient = (
            errors.RateLimitExceeded,
            errors.InternalServerError,
            errors.VaultDown,
            errors.BadGateway,
            errors.VaultNotInitialized,
            errors.UnexpectedError,
            requests_errors.RequestException,
        )
        if isinstance(exc, transient):
            return _error(
                ref, "SecretsUnavailable", f"Vault is unavailable: {type(exc).__name__}", retryable=True
            )
        return _error(ref, "SecretsError", f"Vault error: {type(exc).__name__}")


class AwsSecrets(_CachedSecrets):
    """AWS Secrets Manager through ``boto3``; JSON secret strings come back parsed.

    Region and credentials come from the usual AWS configuration unless given.
    ``client`` replaces the ``secretsmanager`` client (tests, custom sessions).
    """

    def __init__(
        self,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        profile_name: str | None = None,
        client: Any = None,
    ) -> None:
        super().__init__()
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self._profile_name = profile_name
        self._client = client

    def _get_client(self, ref: SecretRef) -> Any:
        if self._client is None:
            boto3 = _require("boto3", ref, "boto3")
            try:
                session = boto3.session.Session(
                    profile_name=self._profile_name, region_name=self._region_name
                )
                self._client = session.client("secretsmanager", endpoint_url=self._endpoint_url)
            except Exception as exc:
                raise self._convert(ref, exc) from exc
        return self._client

    async def _fetch(self, ref: SecretRef) -> Any:
        secret_id, field = _split_key(ref.key)
        client = self._get_client(ref)
        try:
            response = await asyncio.to_thread(client.get_secret_value, SecretId=secret_id)
        except Exception as exc:
            raise self._convert(ref, exc) from exc
        value: Any
        if response.get("SecretString") is not None:
            value = response["SecretString"]
            with contextlib.suppress(ValueError):  # a plain-text secret stays text
                value = json.loads(value)
        else:
            value = response.get("SecretBinary")
        return _select(ref, value, field)

    def _convert(self, ref: SecretRef, exc: Exception) -> StepError:
        errors = _require("botocore.exceptions", ref, "boto3")
        if isinstance(exc, errors.ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == "ResourceNotFoundException":
                return _error(ref, "SecretNotFound", "no such secret in AWS Secrets Manager")
            if code in (
                "ThrottlingException",
                "InternalServiceError",
                "InternalServiceErrorException",
                "ServiceUnavailable",
                "RequestTimeout",
            ):
                return _error(ref, "SecretsUnavailable", f"AWS answered {code}", retryable=True)
            if code in (
                "AccessDeniedException",
                "UnrecognizedClientException",
                "ExpiredTokenException",
                "InvalidSignatureException",
                "DecryptionFailure",
            ):
                return _error(ref, "SecretAccessDenied", f"AWS refused access: {code}")
            return _error(ref, "SecretsError", f"AWS answered {code or 'an error'}")
        if isinstance(exc, errors.NoCredentialsError | errors.PartialCredentialsError):
            return _error(
                ref, "SecretAccessDenied", "no usable AWS credentials (see AWS_PROFILE / AWS_ACCESS_KEY_ID)"
            )
        if isinstance(exc, errors.NoRegionError):
            return _error(ref, "SecretsConfigError", "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION")
        if isinstance(
            exc, errors.EndpointConnectionError | errors.ConnectTimeoutError | errors.ReadTimeoutError
        ):
            return _error(
                ref, "SecretsUnavailable", f"cannot reach AWS: {type(exc).__name__}", retryable=True
            )
        return _error(ref, "SecretsError", f"AWS error: {type(exc).__name__}")


class AzureKeyVaultSecrets(_CachedSecrets):
    """Azure Key Vault through ``azure-keyvault-secrets`` and ``DefaultAzureCredential``.

    ``vault_url`` (``https://NAME.vault.azure.net``) defaults to ``AZURE_KEYVAULT_URL``; a
    ref's ``vault_url`` wins. ``credential`` replaces ``DefaultAzureCredential()``;
    ``client`` replaces the ``SecretClient`` (tests).
    """

    def __init__(self, vault_url: str | None = None, *, credential: Any = None, client: Any = None) -> None:
        super().__init__()
        self._vault_url = vault_url or os.environ.get("AZURE_KEYVAULT_URL")
        self._credential = credential
        self._client = client
        self._clients: dict[str, Any] = {}

    def _client_for(self, ref: SecretRef) -> Any:
        if self._client is not None:
            return self._client
        url = ref.vault_url or self._vault_url
        if not url:
            raise _error(
                ref,
                "SecretsConfigError",
                "no Key Vault URL: set AZURE_KEYVAULT_URL or secrets_config.vault_url",
            )
        if url not in self._clients:
            secrets_sdk = _require("azure.keyvault.secrets", ref, "azure-keyvault-secrets")
            if self._credential is None:
                identity = _require("azure.identity", ref, "azure-identity")
                self._credential = identity.DefaultAzureCredential()
            self._clients[url] = secrets_sdk.SecretClient(vault_url=url, credential=self._credential)
        return self._clients[url]

    async def _fetch(self, ref: SecretRef) -> Any:
        name, field = _split_key(ref.key)
        client = self._client_for(ref)
        try:
            secret = await asyncio.to_thread(client.get_secret, name)
        except Exception as exc:
            raise self._convert(ref, exc) from exc
        return _select(ref, secret.value, field)

    def _convert(self, ref: SecretRef, exc: Exception) -> StepError:
        errors = _require("azure.core.exceptions", ref, "azure-keyvault-secrets")
        if isinstance(exc, errors.ResourceNotFoundError):
            return _error(ref, "SecretNotFound", "no such secret in the Key Vault")
        if isinstance(exc, errors.ClientAuthenticationError):
            return _error(ref, "SecretAccessDenied", f"Azure authentication failed: {type(exc).__name__}")
        if isinstance(exc, errors.HttpResponseError):
            status = exc.status_code or 0
            if status == 403:
                return _error(
                    ref, "SecretAccessDenied", "the identity may not read this Key Vault (HTTP 403)"
                )
            if status in (408, 429) or status >= 500:
                return _error(ref, "SecretsUnavailable", f"Key Vault answered HTTP {status}", retryable=True)
            return _error(ref, "SecretsError", f"Key Vault answered HTTP {status}")
        if isinstance(exc, errors.ServiceRequestError | errors.ServiceResponseError):
            return _error(
                ref, "SecretsUnavailable", f"cannot reach the Key Vault: {type(exc).__name__}", retryable=True
            )
        return _error(ref, "SecretsError", f"Azure error: {type(exc).__name__}")


def _provider_name(ref: SecretRef) -> str:
    name = PROVIDER_ALIASES.get((ref.provider or "").strip().lower())
    if name is None:
        raise _error(
            ref,
            "UnknownSecretsProvider",
            f"unknown secrets provider {ref.provider!r}; use one of env_vars, hashicorp_vault, aws_secrets, "
            "azure_keyvault",
        )
    return name


def provider_for(ref: SecretRef, *, env_prefix: str = DEFAULT_ENV_PREFIX) -> SecretsProvider:
    """A new provider for ``ref.provider``, configured from the environment and the ref."""
    name = _provider_name(ref)
    if name == "hashicorp_vault":
        return VaultSecrets(ref.vault_url)
    if name == "aws_secrets":
        return AwsSecrets()
    if name == "azure_keyvault":
        return AzureKeyVaultSecrets(ref.vault_url)
    return EnvSecrets(prefix=env_prefix)


class RoutingSecrets:
    """Dispatches each ref to the provider named by ``SecretRef.provider``.

    ``providers`` (by canonical name, e.g. ``{"aws_secrets": AwsSecrets(region_name=...)}``)
    override the defaults; a provider not given is made by :func:`provider_for` on first
    use and kept, so its cache lasts as long as this object.
    """

    def __init__(self, providers: Mapping[str, SecretsProvider] | None = None, *,
                 env_prefix: str = DEFAULT_ENV_PREFIX) -> None:
        self.env_prefix = env_prefix
        self._providers: dict[str, SecretsProvider] = {}
        for name, provider in (providers or {}).items():
            canonical = PROVIDER_ALIASES.get(name.strip().lower())
            if canonical is None:
                raise ValueError(f"unknown secrets provider {name!r}")
            self._providers[canonical] = provider

    async def get(self, ref: SecretRef) -> Any:
        """The secret's value from its provider; raises StepError."""
        name = _provider_name(ref)
        provider = self._providers.get(name)
        if provider is None:
            provider = self._providers[name] = provider_for(ref, env_prefix=self.env_prefix)
        return await provider.get(ref)
