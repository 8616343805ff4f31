"""Secrets providers: environment, HashiCorp Vault, AWS Secrets Manager, Azure Key Vault.

A procedure names its secrets; the binder turns each into a
:class:`~langorch.ckp.ir.SecretRef` ``(name, provider, key, vault_url)`` and the runtime
asks a :class:`~langorch.runtime.ports.SecretsProvider` for the value at run time, so
values never enter the IR, the checkpoints or an error message. The built-in encrypted
store (provider ``langorch``, alias ``builtin``) lives in
:mod:`langorch.services.secret_store`; :class:`RoutingSecrets` dispatches to it too.

Keys: ``VAR`` for ``env_vars`` (read from ``LANGORCH_SECRET_VAR``, see :class:`EnvSecrets`);
``path`` or ``path#field`` for ``hashicorp_vault`` (KV v2 or v1);
``secret-id`` or ``secret-id#field`` for ``aws_secrets`` (JSON secret strings are
parsed); ``name`` or ``name#field`` for ``azure_keyvault`` (``#field`` parses the value
as JSON; ``_`` in a name becomes ``-``, which Key Vault names allow).

Vault, AWS and Azure values are cached for ``cache_ttl_s`` seconds
(:class:`~langorch.connectors.secret_cache.TtlCache`): a secret rotated in the service is
read again after that long, without a restart.

Every failure is a :class:`~langorch.runtime.errors.StepError` whose ``error_type`` is one of

    SecretNotFound         the secret or field does not exist          not retryable
    SecretAccessDenied     credentials missing, wrong or not allowed   not retryable
    SecretsUnavailable     the secrets service is down or throttling   retryable
    SecretsConfigError     the provider lacks its address or key       not retryable
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
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Literal

from langorch.ckp.ir import SecretRef
from langorch.connectors.secret_cache import DEFAULT_CACHE_TTL_S, TtlCache
from langorch.runtime.errors import StepError
from langorch.runtime.ports import SecretsProvider

__all__ = [
    "MASTER_KEY_VARIABLES",
    "PROVIDER_ALIASES",
    "AwsSecrets",
    "AzureKeyVaultSecrets",
    "EnvSecrets",
    "RoutingSecrets",
    "VaultSecrets",
    "provider_for",
    "secret_error",
    "select_field",
    "split_key",
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
    "langorch": "langorch",
    "builtin": "langorch",
}
"""Provider names a procedure may write → canonical name."""

MASTER_KEY_VARIABLES = frozenset({"LANGORCH_SECRET_KEY", "LANGORCH_SECRET_KEY_PREVIOUS", "LANGORCH_SECRET_KEY_NEW"})
"""The built-in store's master keys: they carry the env provider's prefix, but no procedure may read them."""


def secret_error(ref: SecretRef, error_type: str, message: str, *, retryable: bool = False) -> StepError:
    """A StepError about ``ref`` that names the secret, its provider and key (never its value)."""
    return StepError(
        f"secret {ref.name!r} ({ref.provider or 'env_vars'} key {ref.key!r}): {message}",
        error_type=error_type,
        retryable=retryable,
        details={"secret": ref.name, "provider": ref.provider, "key": ref.key},
    )


_error = secret_error


def _require(module: str, ref: SecretRef, package: str) -> ModuleType:
    """Import an optional SDK, or fail with a StepError naming the pip extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise _error(
            ref, "MissingDependency", f"the {ref.provider} provider needs the package {package!r}: {_EXTRA}"
        ) from exc


def split_key(key: str) -> tuple[str, str | None]:
    """``name#field`` → ``(name, field)``; ``name`` → ``(name, None)``."""
    name, sep, field = key.partition("#")
    return name, (field if sep else None)


_split_key = split_key


def select_field(ref: SecretRef, value: Any, field: str | None) -> Any:
    """``value`` itself, or its ``field`` (a string value is parsed as JSON first)."""
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


_select = select_field

DEFAULT_ENV_PREFIX = "LANGORCH_SECRET_"


class EnvSecrets:
    """Reads ``<prefix><SecretRef.key>`` from the environment (a key that already starts
    with the prefix is read as it is).

    The prefix (``LANGORCH_SECRET_`` by default, ``LANGORCH_SECRETS__ENV_PREFIX`` on the
    server) is what keeps a procedure from reading any other variable of the server's
    environment — its database URL, its cloud credentials, ``HOME``: the operator exposes a
    secret to procedures by giving it the prefix. An empty prefix turns this off. The
    built-in store's master keys (``LANGORCH_SECRET_KEY``...) are never read.

    Not cached: reading the environment costs nothing, and a value changed by the
    operator is seen by the next run.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, *, prefix: str = DEFAULT_ENV_PREFIX) -> None:
        self._environ = environ
        self.prefix = prefix

    def variable(self, key: str) -> str:
        """The environment variable a key is read from."""
        return key if key.startswith(self.prefix) else f"{self.prefix}{key}"

    async def get(self, ref: SecretRef, *, run_id: str | None = None) -> Any:
        environ = os.environ if self._environ is None else self._environ
        name = self.variable(ref.key)
        if name in MASTER_KEY_VARIABLES:
            raise _error(ref, "SecretAccessDenied",
                         f"{name} is the built-in secret store's master key; procedures cannot read it")
        value = environ.get(name)
        if value is None:
            only = f" (procedures read only variables starting with {self.prefix})" if self.prefix else ""
            raise _error(ref, "SecretNotFound", f"environment variable {name!r} is not set{only}")
        return value


class _CachedSecrets(ABC):
    """Keeps each (vault URL, key) it fetched for ``cache_ttl_s`` seconds."""

    def __init__(self, *, cache_ttl_s: float = DEFAULT_CACHE_TTL_S,
                 clock: Callable[[], float] | None = None) -> None:
        kw: dict[str, Any] = {"clock": clock} if clock is not None else {}
        self._cache = TtlCache(cache_ttl_s, **kw)

    async def get(self, ref: SecretRef, *, run_id: str | None = None) -> Any:
        """The secret's value; raises StepError (see the module docstring)."""
        return await self._cache.get_or_load((ref.vault_url, ref.key), lambda: self._fetch(ref))

    def clear_cache(self) -> None:
        """Forget fetched values (e.g. after a rotation)."""
        self._cache.clear()

    @abstractmethod
    async def _fetch(self, ref: SecretRef) -> Any:
        """Read the secret from the service."""


class VaultSecrets(_CachedSecrets):
    """HashiCorp Vault through ``hvac``: KV version 2 (default) or 1, token or AppRole auth,
    Enterprise namespaces.

    ``url`` defaults to ``VAULT_ADDR`` (a ref's ``vault_url`` wins), ``token`` to
    ``VAULT_TOKEN``, ``namespace`` to ``VAULT_NAMESPACE``. Without a token, ``role_id`` and
    ``secret_id`` log in through AppRole (at ``approle_mount``); the token it gets is used
    until Vault refuses it, then the login is made again once. ``mount_point`` is the KV
    engine's mount, ``kv_version`` its version. ``client`` replaces the ``hvac.Client``
    (tests, other auth methods).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        namespace: str | None = None,
        mount_point: str = "secret",
        kv_version: Literal[1, 2] = 2,
        role_id: str | None = None,
        secret_id: str | None = None,
        approle_mount: str = "approle",
        timeout_s: float = 30.0,
        client: Any = None,
        cache_ttl_s: float = DEFAULT_CACHE_TTL_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(cache_ttl_s=cache_ttl_s, clock=clock)
        if kv_version not in (1, 2):
            raise ValueError("kv_version must be 1 or 2")
        self._url = url or os.environ.get("VAULT_ADDR")
        self._token = token or os.environ.get("VAULT_TOKEN")
        self._namespace = namespace or os.environ.get("VAULT_NAMESPACE")
        self._mount_point = mount_point
        self._kv_version = kv_version
        self._role_id = role_id
        self._secret_id = secret_id
        self._approle_mount = approle_mount
        self._timeout_s = timeout_s
        self._client = client
        self._clients: dict[str, Any] = {}

    @property
    def _approle(self) -> bool:
        return not self._token and bool(self._role_id)

    def _client_for(self, ref: SecretRef) -> Any:
        if self._client is not None:
            return self._client
        url = ref.vault_url or self._url
        if not url:
            raise _error(
                ref, "SecretsConfigError",
                "no Vault address: set LANGORCH_SECRETS__VAULT_ADDR (or VAULT_ADDR) or secrets_config.vault_url"
            )
        if url not in self._clients:
            hvac = _require("hvac", ref, "hvac")
            if not self._token and not self._role_id:
                raise _error(ref, "SecretAccessDenied",
                             "no Vault credentials: set LANGORCH_SECRETS__VAULT_TOKEN, or "
                             "LANGORCH_SECRETS__VAULT_ROLE_ID and LANGORCH_SECRETS__VAULT_SECRET_ID for AppRole")
            self._clients[url] = hvac.Client(url=url, token=self._token, namespace=self._namespace,
                                             timeout=self._timeout_s)
        return self._clients[url]

    def _login(self, client: Any) -> None:
        """AppRole login: sets the client's token."""
        client.auth.approle.login(role_id=self._role_id, secret_id=self._secret_id,
                                  mount_point=self._approle_mount)

    def _read(self, client: Any, path: str) -> Any:
        if self._kv_version == 1:
            return client.secrets.kv.v1.read_secret(path=path, mount_point=self._mount_point)
        return client.secrets.kv.v2.read_secret_version(path=path, mount_point=self._mount_point,
                                                        raise_on_deleted_version=True)

    def _read_authenticated(self, client: Any, path: str) -> Any:
        errors = importlib.import_module("hvac.exceptions")
        if not self._approle:
            return self._read(client, path)
        if not getattr(client, "token", None):
            self._login(client)
        try:
            return self._read(client, path)
        except (errors.Forbidden, errors.Unauthorized):
            self._login(client)  # the AppRole token expired or was revoked: once more with a fresh one
            return self._read(client, path)

    async def _fetch(self, ref: SecretRef) -> Any:
        path, field = _split_key(ref.key)
        client = self._client_for(ref)
        try:
            response = await asyncio.to_thread(self._read_authenticated, client, path)
        except Exception as exc:
            raise self._convert(ref, exc) from exc
        try:
            data = response["data"] if self._kv_version == 1 else response["data"]["data"]
        except (KeyError, TypeError):
            shape = "data" if self._kv_version == 1 else "data.data"
            raise _error(
                ref, "SecretsError",
                f"Vault answered without {shape} (is the mount KV v{self._kv_version}? see "
                "LANGORCH_SECRETS__VAULT_KV_VERSION)"
            ) from None
        return _select(ref, data, field)

    def _convert(self, ref: SecretRef, exc: Exception) -> StepError:
        errors = _require("hvac.exceptions", ref, "hvac")
        requests_errors = _require("requests.exceptions", ref, "requests")
        if isinstance(exc, errors.InvalidPath):
            return _error(ref, "SecretNotFound", f"no secret at {self._mount_point}/{_split_key(ref.key)[0]}")
        if isinstance(exc, errors.Forbidden | errors.Unauthorized):
            return _error(ref, "SecretAccessDenied", f"Vault refused access: {type(exc).__name__}")
        if isinstance(exc, errors.InvalidRequest) and self._approle:
            return _error(ref, "SecretAccessDenied", "Vault refused the AppRole login (role_id or secret_id)")
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

    Region and credentials come from the usual AWS configuration (``AWS_REGION``,
    ``AWS_PROFILE``, ``AWS_ACCESS_KEY_ID``..., an instance role) unless given.
    ``endpoint_url`` points at another endpoint (LocalStack, a VPC endpoint). ``client``
    replaces the ``secretsmanager`` client (tests, custom sessions).
    """

    def __init__(
        self,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        profile_name: str | None = None,
        client: Any = None,
        cache_ttl_s: float = DEFAULT_CACHE_TTL_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(cache_ttl_s=cache_ttl_s, clock=clock)
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
    ref's ``vault_url`` wins. ``credential`` replaces ``DefaultAzureCredential()`` (which
    reads ``AZURE_TENANT_ID``/``AZURE_CLIENT_ID``/``AZURE_CLIENT_SECRET``, a managed
    identity or the Azure CLI login); ``transport`` (an ``azure.core`` HttpTransport) and
    ``client_options`` (``retry_total``, ``connection_timeout``...) are handed to the
    ``SecretClient``; ``client`` replaces the ``SecretClient`` (tests).
    """

    def __init__(self, vault_url: str | None = None, *, credential: Any = None, client: Any = None,
                 transport: Any = None, client_options: Mapping[str, Any] | None = None,
                 cache_ttl_s: float = DEFAULT_CACHE_TTL_S, clock: Callable[[], float] | None = None) -> None:
        super().__init__(cache_ttl_s=cache_ttl_s, clock=clock)
        self._vault_url = vault_url or os.environ.get("AZURE_KEYVAULT_URL")
        self._credential = credential
        self._client = client
        self._options: dict[str, Any] = dict(client_options or {})
        if transport is not None:
            self._options["transport"] = transport
        self._clients: dict[str, Any] = {}

    def _client_for(self, ref: SecretRef) -> Any:
        if self._client is not None:
            return self._client
        url = ref.vault_url or self._vault_url
        if not url:
            raise _error(
                ref,
                "SecretsConfigError",
                "no Key Vault URL: set LANGORCH_SECRETS__AZURE_VAULT_URL (or AZURE_KEYVAULT_URL) or "
                "secrets_config.vault_url",
            )
        if url not in self._clients:
            secrets_sdk = _require("azure.keyvault.secrets", ref, "azure-keyvault-secrets")
            if self._credential is None:
                identity = _require("azure.identity", ref, "azure-identity")
                self._credential = identity.DefaultAzureCredential()
            self._clients[url] = secrets_sdk.SecretClient(vault_url=url, credential=self._credential,
                                                          **self._options)
        return self._clients[url]

    async def _fetch(self, ref: SecretRef) -> Any:
        name, field = _split_key(ref.key)
        name = name.replace("_", "-")  # Key Vault names are letters, digits and dashes
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
            f"unknown secrets provider {ref.provider!r}; use one of env_vars, langorch (the built-in store), "
            "hashicorp_vault, aws_secrets, azure_keyvault",
        )
    return name


def provider_for(ref: SecretRef, *, env_prefix: str = DEFAULT_ENV_PREFIX,
                 cache_ttl_s: float = DEFAULT_CACHE_TTL_S) -> SecretsProvider:
    """A new provider for ``ref.provider``, configured from the environment and the ref.

    The built-in store needs the server's database: it is handed to :class:`RoutingSecrets`
    by the server (and ``langorch run``), never made here.
    """
    name = _provider_name(ref)
    if name == "hashicorp_vault":
        return VaultSecrets(ref.vault_url, cache_ttl_s=cache_ttl_s)
    if name == "aws_secrets":
        return AwsSecrets(cache_ttl_s=cache_ttl_s)
    if name == "azure_keyvault":
        return AzureKeyVaultSecrets(ref.vault_url, cache_ttl_s=cache_ttl_s)
    if name == "langorch":
        raise _error(ref, "SecretsConfigError",
                     "the built-in secret store is not available here (it needs the server's database)")
    return EnvSecrets(prefix=env_prefix)


class RoutingSecrets:
    """Dispatches each ref to the provider named by ``SecretRef.provider``.

    ``providers`` (by name or alias, e.g. ``{"aws_secrets": AwsSecrets(region_name=...)}``)
    override the defaults; a provider not given is made by :func:`provider_for` on first
    use and kept, so its cache lasts as long as this object. ``run_id`` is passed on: the
    built-in store looks up the run's project with it.
    """

    def __init__(self, providers: Mapping[str, SecretsProvider] | None = None, *,
                 env_prefix: str = DEFAULT_ENV_PREFIX, cache_ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        self.env_prefix = env_prefix
        self.cache_ttl_s = cache_ttl_s
        self._providers: dict[str, SecretsProvider] = {}
        for name, provider in (providers or {}).items():
            canonical = PROVIDER_ALIASES.get(name.strip().lower())
            if canonical is None:
                raise ValueError(f"unknown secrets provider {name!r}")
            self._providers[canonical] = provider

    async def get(self, ref: SecretRef, *, run_id: str | None = None) -> Any:
        """The secret's value from its provider; raises StepError."""
        name = _provider_name(ref)
        provider = self._providers.get(name)
        if provider is None:
            provider = self._providers[name] = provider_for(ref, env_prefix=self.env_prefix,
                                                            cache_ttl_s=self.cache_ttl_s)
        return await provider.get(ref, run_id=run_id)
