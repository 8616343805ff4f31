"""Secrets providers.

Env: real environment. Vault: real ``hvac`` against a loopback KV v2 stand-in. AWS: a
real boto3 client with botocore's Stubber. Azure: a stand-in SecretClient raising the
real azure-core exceptions (Key Vault needs TLS and Azure AD, which loopback lacks).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from botocore.stub import Stubber  # type: ignore[import-untyped]

from langorch.ckp.ir import SecretRef
from langorch.connectors.secrets import (
    AwsSecrets,
    AzureKeyVaultSecrets,
    EnvSecrets,
    RoutingSecrets,
    VaultSecrets,
    provider_for,
)
from langorch.runtime.errors import StepError
from tests.fakes.vault_server import FakeVaultServer


def _ref(key: str, provider: str = "env_vars", vault_url: str | None = None) -> SecretRef:
    return SecretRef(name="db_password", provider=provider, key=key, vault_url=vault_url)


# -- env ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_env_secret_is_read_from_the_prefixed_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGORCH_SECRET_DB_PASSWORD", "s3cret")
    assert await EnvSecrets().get(_ref("DB_PASSWORD")) == "s3cret"
    assert await EnvSecrets().get(_ref("LANGORCH_SECRET_DB_PASSWORD")) == "s3cret"  # already prefixed


@pytest.mark.asyncio
@pytest.mark.parametrize("variable", ["LANGORCH_DB__URL", "HOME", "PATH"])
async def test_env_secrets_never_read_the_servers_own_variables(variable: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(variable, "server-private")
    monkeypatch.delenv(f"LANGORCH_SECRET_{variable}", raising=False)
    with pytest.raises(StepError) as caught:
        await EnvSecrets().get(_ref(variable))

    assert caught.value.error_type == "SecretNotFound"
    assert f"LANGORCH_SECRET_{variable}" in caught.value.message
    assert "starting with LANGORCH_SECRET_" in caught.value.message
    assert "server-private" not in caught.value.message


@pytest.mark.asyncio
async def test_missing_env_variable_is_a_non_retryable_secret_not_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LANGORCH_SECRET_ABSENT", raising=False)
    with pytest.raises(StepError) as caught:
        await EnvSecrets().get(_ref("ABSENT"))

    assert (caught.value.error_type, caught.value.retryable) == ("SecretNotFound", False)
    assert "LANGORCH_SECRET_ABSENT" in caught.value.message
    assert "db_password" in caught.value.message


@pytest.mark.asyncio
async def test_env_secrets_can_read_a_given_mapping_with_the_operators_prefix() -> None:
    assert await EnvSecrets({"ACME_TOKEN": "abc"}, prefix="ACME_").get(_ref("TOKEN")) == "abc"
    assert await EnvSecrets({"TOKEN": "abc"}, prefix="").get(_ref("TOKEN")) == "abc"


# -- HashiCorp Vault ---------------------------------------------------------------------


@pytest.fixture
def vault() -> Iterator[FakeVaultServer]:
    with FakeVaultServer(token="t0ken") as server:
        server.put("apps/billing", {"username": "billing", "password": "pw-1"})
        yield server


@pytest.mark.asyncio
async def test_vault_returns_one_field_of_a_kv2_secret(vault: FakeVaultServer) -> None:
    secrets = VaultSecrets(vault.url, token="t0ken")
    assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"


@pytest.mark.asyncio
async def test_vault_returns_the_whole_secret_without_a_field(vault: FakeVaultServer) -> None:
    secrets = VaultSecrets(vault.url, token="t0ken")
    value = await secrets.get(_ref("apps/billing", "hashicorp_vault"))
    assert value == {"username": "billing", "password": "pw-1"}


@pytest.mark.asyncio
async def test_vault_values_are_cached_per_instance(vault: FakeVaultServer) -> None:
    secrets = VaultSecrets(vault.url, token="t0ken")
    await secrets.get(_ref("apps/billing#password", "hashicorp_vault"))
    await secrets.get(_ref("apps/billing#password", "hashicorp_vault"))
    assert vault.reads == ["apps/billing"]

    secrets.clear_cache()
    await secrets.get(_ref("apps/billing#password", "hashicorp_vault"))
    assert len(vault.reads) == 2


@pytest.mark.asyncio
async def test_vault_address_comes_from_the_ref_or_environment(
    vault: FakeVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "t0ken")
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    ref = _ref("apps/billing#username", "hashicorp_vault", vault_url=vault.url)
    assert await VaultSecrets().get(ref) == "billing"

    monkeypatch.setenv("VAULT_ADDR", vault.url)
    assert await VaultSecrets().get(_ref("apps/billing#username", "hashicorp_vault")) == "billing"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("key", "token", "error_type"),
    [
        ("apps/missing#password", "t0ken", "SecretNotFound"),
        ("apps/billing#nope", "t0ken", "SecretNotFound"),
        ("apps/billing#password", "wrong", "SecretAccessDenied"),
    ],
)
async def test_vault_failures_that_retrying_cannot_fix(
    vault: FakeVaultServer, key: str, token: str, error_type: str
) -> None:
    with pytest.raises(StepError) as caught:
        await VaultSecrets(vault.url, token=token).get(_ref(key, "hashicorp_vault"))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, False)
    assert "pw-1" not in caught.value.message


@pytest.mark.asyncio
async def test_vault_outage_is_retryable(vault: FakeVaultServer) -> None:
    vault.fail_next(503)
    with pytest.raises(StepError) as caught:
        await VaultSecrets(vault.url, token="t0ken").get(_ref("apps/billing", "hashicorp_vault"))

    assert (caught.value.error_type, caught.value.retryable) == ("SecretsUnavailable", True)
    assert caught.value.__cause__ is not None


@pytest.mark.asyncio
async def test_vault_without_an_address_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    with pytest.raises(StepError) as caught:
        await VaultSecrets().get(_ref("apps/billing", "hashicorp_vault"))

    assert caught.value.error_type == "SecretsConfigError"
    assert "VAULT_ADDR" in caught.value.message


@pytest.mark.asyncio
async def test_missing_sdk_names_the_pip_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)
    with pytest.raises(StepError) as caught:
        await VaultSecrets("http://127.0.0.1:8200").get(_ref("apps/billing", "hashicorp_vault"))

    assert (caught.value.error_type, caught.value.retryable) == ("MissingDependency", False)
    assert "langorch[secrets]" in caught.value.message
    assert "hvac" in caught.value.message


# -- AWS Secrets Manager -----------------------------------------------------------------


@pytest.fixture
def aws_client() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "secretsmanager", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _secret_value(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "ARN": f"arn:aws:secretsmanager:eu-west-1:123456789012:secret:{name}-AbCdEf",
        "Name": name,
        **fields,
    }


@pytest.mark.asyncio
async def test_aws_json_secret_strings_are_parsed(aws_client: tuple[Any, Stubber]) -> None:
    client, stubber = aws_client
    body = {"user": "svc", "password": "pw-2"}
    stubber.add_response(
        "get_secret_value", _secret_value("prod/db", SecretString=json.dumps(body)), {"SecretId": "prod/db"}
    )
    assert await AwsSecrets(client=client).get(_ref("prod/db", "aws_secrets")) == body


@pytest.mark.asyncio
async def test_aws_field_and_plain_string_secrets(aws_client: tuple[Any, Stubber]) -> None:
    client, stubber = aws_client
    stubber.add_response(
        "get_secret_value",
        _secret_value("prod/db", SecretString='{"password": "pw-2"}'),
        {"SecretId": "prod/db"},
    )
    stubber.add_response(
        "get_secret_value", _secret_value("api-key", SecretString="k-123"), {"SecretId": "api-key"}
    )
    secrets = AwsSecrets(client=client)

    assert await secrets.get(_ref("prod/db#password", "aws_secrets")) == "pw-2"
    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-123"


@pytest.mark.asyncio
async def test_aws_values_are_cached_per_instance(aws_client: tuple[Any, Stubber]) -> None:
    client, stubber = aws_client
    stubber.add_response(
        "get_secret_value", _secret_value("api-key", SecretString="k-1"), {"SecretId": "api-key"}
    )
    secrets = AwsSecrets(client=client)

    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-1"
    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-1"  # a second call would fail the Stubber


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "error_type", "retryable"),
    [
        ("ResourceNotFoundException", "SecretNotFound", False),
        ("AccessDeniedException", "SecretAccessDenied", False),
        ("ThrottlingException", "SecretsUnavailable", True),
        ("InternalServiceError", "SecretsUnavailable", True),
        ("InvalidParameterException", "SecretsError", False),
    ],
)
async def test_aws_errors_are_classified(
    aws_client: tuple[Any, Stubber], code: str, error_type: str, retryable: bool
) -> None:
    client, stubber = aws_client
    stubber.add_client_error("get_secret_value", service_error_code=code, service_message="nope")
    with pytest.raises(StepError) as caught:
        await AwsSecrets(client=client).get(_ref("prod/db", "aws_secrets"))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, retryable)


# -- Azure Key Vault ---------------------------------------------------------------------


@dataclass
class _KeyVaultSecret:
    name: str
    value: str | None


class _StandInSecretClient:
    """Answers like azure.keyvault.secrets.SecretClient.get_secret."""

    def __init__(self, secrets: dict[str, str], error: Exception | None = None) -> None:
        self.secrets = secrets
        self.error = error
        self.calls: list[str] = []

    def get_secret(self, name: str, version: str | None = None) -> _KeyVaultSecret:
        self.calls.append(name)
        if self.error is not None:
            raise self.error
        if name not in self.secrets:
            raise ResourceNotFoundError(f"Secret {name} not found")
        return _KeyVaultSecret(name, self.secrets[name])


@pytest.mark.asyncio
async def test_azure_secret_value_and_json_field() -> None:
    client = _StandInSecretClient({"db-password": "pw-3", "db": '{"user": "svc"}'})
    secrets = AzureKeyVaultSecrets("https://example.vault.azure.net", client=client)

    assert await secrets.get(_ref("db-password", "azure_keyvault")) == "pw-3"
    assert await secrets.get(_ref("db#user", "azure_keyvault")) == "svc"
    assert await secrets.get(_ref("db-password", "azure_keyvault")) == "pw-3"
    assert client.calls == ["db-password", "db"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "error_type", "retryable"),
    [
        (None, "SecretNotFound", False),
        (ClientAuthenticationError("no credential"), "SecretAccessDenied", False),
        (HttpResponseError("throttled"), "SecretsError", False),
    ],
)
async def test_azure_errors_are_classified(error: Exception | None, error_type: str, retryable: bool) -> None:
    client = _StandInSecretClient({}, error)
    with pytest.raises(StepError) as caught:
        await AzureKeyVaultSecrets(client=client).get(_ref("missing", "azure_keyvault"))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, retryable)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [(429, "SecretsUnavailable", True), (403, "SecretAccessDenied", False)],
)
async def test_azure_http_statuses_are_classified(status: int, error_type: str, retryable: bool) -> None:
    error = HttpResponseError(f"HTTP {status}")
    error.status_code = status
    with pytest.raises(StepError) as caught:
        await AzureKeyVaultSecrets(client=_StandInSecretClient({}, error)).get(_ref("x", "azure_keyvault"))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, retryable)


@pytest.mark.asyncio
async def test_azure_without_a_vault_url_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_KEYVAULT_URL", raising=False)
    with pytest.raises(StepError) as caught:
        await AzureKeyVaultSecrets().get(_ref("x", "azure_keyvault"))

    assert caught.value.error_type == "SecretsConfigError"


# -- routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "cls"),
    [
        ("env_vars", EnvSecrets),
        ("hashicorp_vault", VaultSecrets),
        ("aws_secrets", AwsSecrets),
        ("azure_keyvault", AzureKeyVaultSecrets),
        ("", EnvSecrets),
    ],
)
def test_provider_for_picks_the_class_named_by_the_ref(provider: str, cls: type) -> None:
    assert isinstance(provider_for(_ref("k", provider)), cls)


def test_provider_for_rejects_unknown_providers() -> None:
    with pytest.raises(StepError) as caught:
        provider_for(_ref("k", "gcp_secret_manager"))

    assert (caught.value.error_type, caught.value.retryable) == ("UnknownSecretsProvider", False)
    assert "gcp_secret_manager" in caught.value.message


@pytest.mark.asyncio
async def test_routing_dispatches_on_the_ref_provider(
    vault: FakeVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGORCH_SECRET_TOKEN", "env-value")
    routing = RoutingSecrets(
        {
            "hashicorp_vault": VaultSecrets(vault.url, token="t0ken"),
            "azure": AzureKeyVaultSecrets(client=_StandInSecretClient({"api": "az-value"})),
        }
    )

    assert await routing.get(_ref("TOKEN")) == "env-value"
    assert await routing.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"
    assert await routing.get(_ref("api", "azure_keyvault")) == "az-value"


def test_routing_rejects_unknown_provider_names() -> None:
    with pytest.raises(ValueError, match="unknown secrets provider"):
        RoutingSecrets({"gcp": EnvSecrets()})
