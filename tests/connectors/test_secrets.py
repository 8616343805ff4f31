"""Secrets providers, each against a real SDK.

Env: the real environment. Vault: real ``hvac`` against a loopback stand-in speaking the KV
v1/v2, AppRole and namespace endpoints it uses. AWS: real ``boto3`` against moto's Secrets
Manager (error codes moto cannot produce come from botocore's Stubber). Azure: the real
``SecretClient`` over an ``azure.core`` transport written here that answers like Key Vault
(challenge, bearer token, JSON bodies, error statuses) without a network. Every remote
provider keeps values for its cache TTL: a rotation on the service's side is read after it.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest
from azure.core.rest._requests_basic import RestRequestsTransportResponse
from botocore.stub import Stubber  # type: ignore[import-untyped]
from moto import mock_aws

from langorch.ckp.ir import SecretRef
from langorch.connectors.secret_cache import TtlCache, invalidate_everywhere
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


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


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


@pytest.mark.asyncio
@pytest.mark.parametrize("key", ["KEY", "KEY_PREVIOUS", "KEY_NEW", "LANGORCH_SECRET_KEY"])
async def test_env_secrets_never_read_the_secret_stores_master_key(key: str) -> None:
    environ = {"LANGORCH_SECRET_KEY": "k-current-1", "LANGORCH_SECRET_KEY_PREVIOUS": "k-previous-2",
               "LANGORCH_SECRET_KEY_NEW": "k-next-3"}
    with pytest.raises(StepError) as caught:
        await EnvSecrets(environ).get(_ref(key))

    assert caught.value.error_type == "SecretAccessDenied"
    assert "master key" in caught.value.message
    assert not any(value in caught.value.message for value in environ.values())


# -- the TTL cache -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_cache_keeps_a_value_for_its_ttl_and_never_keeps_a_failure() -> None:
    clock, loads = Clock(), []

    async def load() -> str:
        loads.append(clock.now)
        if len(loads) == 2:
            raise StepError("down", error_type="SecretsUnavailable", retryable=True)
        return f"v{len(loads)}"

    cache = TtlCache(10, clock=clock)
    assert await cache.get_or_load("k", load) == "v1"
    clock.now += 9.9
    assert await cache.get_or_load("k", load) == "v1"
    clock.now += 0.2
    with pytest.raises(StepError):
        await cache.get_or_load("k", load)
    assert await cache.get_or_load("k", load) == "v3"  # the failure was not cached
    assert len(loads) == 3


@pytest.mark.asyncio
async def test_invalidation_reaches_every_cache_of_its_namespace_only() -> None:
    async def one() -> int:
        return 1

    mine, other = TtlCache(60, namespace="langorch"), TtlCache(60, namespace="vault")
    for cache in (mine, other):
        await cache.get_or_load(("p1", "crm"), one)
        await cache.get_or_load(("", "erp"), one)

    assert invalidate_everywhere("langorch", lambda key: isinstance(key, tuple) and key[1] == "crm") == 1
    assert (len(mine), len(other)) == (1, 2)
    assert TtlCache(0).ttl_s == 0  # 0 turns caching off


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
async def test_vault_reads_a_kv1_mount() -> None:
    with FakeVaultServer(token="t0ken", mount="kv", kv_version=1) as server:
        server.put("apps/erp", {"api_key": "erp-1"})
        secrets = VaultSecrets(server.url, token="t0ken", mount_point="kv", kv_version=1)

        assert await secrets.get(_ref("apps/erp#api_key", "hashicorp_vault")) == "erp-1"
        with pytest.raises(StepError) as caught:  # a KV v2 reader on a v1 mount finds nothing there
            await VaultSecrets(server.url, token="t0ken", mount_point="kv").get(_ref("apps/erp", "vault"))
        assert caught.value.error_type == "SecretNotFound"


@pytest.mark.asyncio
async def test_vault_sends_the_namespace_and_reads_its_secrets() -> None:
    with FakeVaultServer(token="t0ken") as server:
        server.put("apps/billing", {"password": "root-ns"})
        server.put("apps/billing", {"password": "team-ns"}, namespace="team-a")

        value = await VaultSecrets(server.url, token="t0ken", namespace="team-a").get(
            _ref("apps/billing#password", "hashicorp_vault"))

        assert value == "team-ns"
        assert server.namespaces_seen == ["team-a"]


@pytest.mark.asyncio
async def test_vault_approle_logs_in_and_logs_in_again_when_its_token_stops_working() -> None:
    with FakeVaultServer(token="root-only", approle=("role-1", "secret-1")) as server:
        server.put("apps/billing", {"password": "pw-1"})
        secrets = VaultSecrets(server.url, role_id="role-1", secret_id="secret-1", cache_ttl_s=0)

        assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"
        assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"
        assert server.logins == 1  # the token is reused
        server.revoke_issued()
        assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"
        assert server.logins == 2


@pytest.mark.asyncio
async def test_vault_approle_with_a_wrong_secret_id_is_access_denied() -> None:
    with FakeVaultServer(approle=("role-1", "secret-1")) as server:
        server.put("apps/billing", {"password": "pw-1"})
        with pytest.raises(StepError) as caught:
            await VaultSecrets(server.url, role_id="role-1", secret_id="wrong").get(
                _ref("apps/billing", "hashicorp_vault"))

    assert (caught.value.error_type, caught.value.retryable) == ("SecretAccessDenied", False)
    assert "wrong" not in caught.value.message


@pytest.mark.asyncio
async def test_vault_keeps_a_value_for_the_ttl_then_reads_the_rotated_one(vault: FakeVaultServer) -> None:
    clock = Clock()
    secrets = VaultSecrets(vault.url, token="t0ken", cache_ttl_s=30, clock=clock)
    assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"

    vault.put("apps/billing", {"username": "billing", "password": "pw-2"})  # rotated in Vault
    clock.now += 29
    assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"
    clock.now += 2
    assert await secrets.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-2"
    assert vault.reads == ["apps/billing", "apps/billing"]

    secrets.clear_cache()
    await secrets.get(_ref("apps/billing#password", "hashicorp_vault"))
    assert len(vault.reads) == 3


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
async def test_vault_without_an_address_or_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAULT_ADDR", raising=False)
    monkeypatch.delenv("VAULT_TOKEN", raising=False)
    with pytest.raises(StepError) as caught:
        await VaultSecrets().get(_ref("apps/billing", "hashicorp_vault"))
    assert caught.value.error_type == "SecretsConfigError"
    assert "VAULT_ADDR" in caught.value.message

    with pytest.raises(StepError) as caught:
        await VaultSecrets("http://127.0.0.1:9").get(_ref("apps/billing", "hashicorp_vault"))
    assert caught.value.error_type == "SecretAccessDenied"
    assert "LANGORCH_SECRETS__VAULT_TOKEN" in caught.value.message


@pytest.mark.asyncio
async def test_missing_sdk_names_the_pip_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hvac", None)
    with pytest.raises(StepError) as caught:
        await VaultSecrets("http://127.0.0.1:8200", token="t").get(_ref("apps/billing", "hashicorp_vault"))

    assert (caught.value.error_type, caught.value.retryable) == ("MissingDependency", False)
    assert "langorch[secrets]" in caught.value.message
    assert "hvac" in caught.value.message


# -- AWS Secrets Manager -----------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's Secrets Manager in eu-west-1, with throwaway credentials."""
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_SESSION_TOKEN", "testing")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")


@pytest.mark.asyncio
async def test_aws_json_plain_and_field_secrets(aws: Any) -> None:
    aws.create_secret(Name="prod/db", SecretString=json.dumps({"user": "svc", "password": "pw-2"}))
    aws.create_secret(Name="api-key", SecretString="k-123")
    aws.create_secret(Name="blob", SecretBinary=b"\x00\x01")
    secrets = AwsSecrets(region_name="eu-west-1")

    assert await secrets.get(_ref("prod/db", "aws_secrets")) == {"user": "svc", "password": "pw-2"}
    assert await secrets.get(_ref("prod/db#password", "aws_secrets")) == "pw-2"
    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-123"
    assert await secrets.get(_ref("blob", "aws")) == b"\x00\x01"


@pytest.mark.asyncio
async def test_aws_keeps_a_value_for_the_ttl_then_reads_the_rotated_one(aws: Any) -> None:
    aws.create_secret(Name="api-key", SecretString="k-1")
    clock = Clock()
    secrets = AwsSecrets(region_name="eu-west-1", cache_ttl_s=60, clock=clock)
    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-1"

    aws.put_secret_value(SecretId="api-key", SecretString="k-2")  # rotated in AWS
    clock.now += 59
    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-1"
    clock.now += 2
    assert await secrets.get(_ref("api-key", "aws_secrets")) == "k-2"


@pytest.mark.asyncio
async def test_aws_missing_secret_and_field(aws: Any) -> None:
    aws.create_secret(Name="prod/db", SecretString='{"user": "svc"}')
    for key in ("absent", "prod/db#password"):
        with pytest.raises(StepError) as caught:
            await AwsSecrets(region_name="eu-west-1").get(_ref(key, "aws_secrets"))
        assert (caught.value.error_type, caught.value.retryable) == ("SecretNotFound", False)


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
async def test_aws_errors_are_classified(code: str, error_type: str, retryable: bool) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    with Stubber(client) as stubber:
        stubber.add_client_error("get_secret_value", service_error_code=code, service_message="nope")
        with pytest.raises(StepError) as caught:
            await AwsSecrets(client=client).get(_ref("prod/db", "aws_secrets"))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, retryable)


# -- Azure Key Vault -----------------------------------------------------------------------

VAULT_URL = "https://langorch-test.vault.azure.net"


class FakeKeyVaultTransport(HttpTransport):
    """Answers the SecretClient like Key Vault: a 401 challenge to a request without a bearer
    token, then ``GET /secrets/{name}`` from :attr:`secrets` (404 otherwise), or
    :attr:`status` when set (an error the service reports)."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.status: int | None = None
        self.reads: list[str] = []

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __exit__(self, *args: Any) -> None:
        pass

    def send(self, request: HttpRequest, **kwargs: Any) -> RestRequestsTransportResponse:  # type: ignore[override]
        headers: dict[str, str] = {"Content-Type": "application/json"}
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            status, body = 401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a "
                                                                              "Bearer or PoP token."}}
            headers["WWW-Authenticate"] = ('Bearer authorization="https://login.microsoftonline.com/tenant-id", '
                                           'resource="https://vault.azure.net"')
        else:
            name = request.url.split("/secrets/", 1)[1].split("?", 1)[0].strip("/").split("/")[0]
            self.reads.append(name)
            if self.status is not None:
                status, body = self.status, {"error": {"code": "Error", "message": f"HTTP {self.status}"}}
            elif name in self.secrets:
                status, body = 200, {"value": self.secrets[name], "id": f"{VAULT_URL}/secrets/{name}/0123",
                                     "attributes": {"enabled": True, "created": 1700000000}}
            else:
                status, body = 404, {"error": {"code": "SecretNotFound",
                                               "message": f"A secret with (name/id) {name} was not found."}}
        raw = requests.Response()
        raw.status_code, raw.url, raw.raw = status, request.url, io.BytesIO(json.dumps(body).encode())
        raw.headers.update(headers)
        response = RestRequestsTransportResponse(request=request, internal_response=raw)
        response.read()
        return response


class FakeCredential:
    """An Azure AD credential that hands out a token (or fails like a misconfigured one)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        if self.fail:
            raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")
        return AccessToken("fake-token", int(time.time()) + 3600)


def _azure(transport: FakeKeyVaultTransport, **kw: Any) -> AzureKeyVaultSecrets:
    return AzureKeyVaultSecrets(VAULT_URL, credential=kw.pop("credential", FakeCredential()), transport=transport,
                                client_options={"retry_total": 0}, **kw)  # the SDK's own retries: none here


@pytest.mark.asyncio
async def test_azure_secret_value_json_field_and_name_normalisation() -> None:
    transport = FakeKeyVaultTransport({"db-password": "pw-3", "db": '{"user": "svc"}'})
    secrets = _azure(transport)

    assert await secrets.get(_ref("db-password", "azure_keyvault")) == "pw-3"
    assert await secrets.get(_ref("db_password", "azure_keyvault")) == "pw-3"  # _ → -
    assert await secrets.get(_ref("db#user", "azure_keyvault")) == "svc"
    assert transport.reads == ["db-password", "db-password", "db"]


@pytest.mark.asyncio
async def test_azure_keeps_a_value_for_the_ttl_then_reads_the_rotated_one() -> None:
    transport, clock = FakeKeyVaultTransport({"api": "v1"}), Clock()
    secrets = _azure(transport, cache_ttl_s=60, clock=clock)
    assert await secrets.get(_ref("api", "azure_keyvault")) == "v1"

    transport.secrets["api"] = "v2"  # a new version in Key Vault
    clock.now += 59
    assert await secrets.get(_ref("api", "azure_keyvault")) == "v1"
    clock.now += 2
    assert await secrets.get(_ref("api", "azure_keyvault")) == "v2"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [(404, "SecretNotFound", False), (403, "SecretAccessDenied", False), (429, "SecretsUnavailable", True),
     (503, "SecretsUnavailable", True), (400, "SecretsError", False)],
)
async def test_azure_statuses_are_classified(status: int, error_type: str, retryable: bool) -> None:
    transport = FakeKeyVaultTransport({})
    if status != 404:
        transport.status = status
    with pytest.raises(StepError) as caught:
        await _azure(transport).get(_ref("missing", "azure_keyvault"))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, retryable)


@pytest.mark.asyncio
async def test_azure_credential_failure_is_access_denied() -> None:
    with pytest.raises(StepError) as caught:
        await _azure(FakeKeyVaultTransport({"x": "v"}), credential=FakeCredential(fail=True)).get(
            _ref("x", "azure_keyvault"))

    assert (caught.value.error_type, caught.value.retryable) == ("SecretAccessDenied", False)


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


@pytest.mark.parametrize(("provider", "error_type"), [("gcp_secret_manager", "UnknownSecretsProvider"),
                                                      ("langorch", "SecretsConfigError")])
def test_provider_for_refuses_unknown_providers_and_the_store_without_a_database(
        provider: str, error_type: str) -> None:
    with pytest.raises(StepError) as caught:
        provider_for(_ref("k", provider))

    assert (caught.value.error_type, caught.value.retryable) == (error_type, False)
    assert provider in caught.value.message or "built-in" in caught.value.message


@pytest.mark.asyncio
async def test_routing_dispatches_on_the_ref_provider(
    vault: FakeVaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGORCH_SECRET_TOKEN", "env-value")
    routing = RoutingSecrets(
        {
            "hashicorp_vault": VaultSecrets(vault.url, token="t0ken"),
            "azure": _azure(FakeKeyVaultTransport({"api": "az-value"})),
        }
    )

    assert await routing.get(_ref("TOKEN")) == "env-value"
    assert await routing.get(_ref("apps/billing#password", "hashicorp_vault")) == "pw-1"
    assert await routing.get(_ref("api", "azure_keyvault")) == "az-value"


def test_routing_rejects_unknown_provider_names() -> None:
    with pytest.raises(ValueError, match="unknown secrets provider"):
        RoutingSecrets({"gcp": EnvSecrets()})
