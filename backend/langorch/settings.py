"""Server settings: one class per subsystem, read from ``LANGORCH_*`` environment variables."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, NonNegativeFloat, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from langorch.runtime.pricing import DEFAULT_PRICES


def _comma_list(value: Any) -> Any:
    """``a, b`` (an environment variable) or a JSON list → a list of entries."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value



class DatabaseSettings(BaseModel):
    url: str = Field(default="sqlite+aiosqlite:///./var/langorch.db",
                     description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+psycopg://...")
    checkpoint_url: str | None = Field(default=None, description="LangGraph checkpointer target: a SQLite file path or "
                                                         "a postgresql:// URL. Default: beside the database.")
    echo: bool = Field(default=False, description="Log SQL statements.")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def checkpoint_target(self) -> str:
        if self.checkpoint_url:
            return self.checkpoint_url
        if self.is_postgres:
            return self.url.replace("postgresql+psycopg://", "postgresql://").replace(
                "postgresql+asyncpg://", "postgresql://")
        path = self.url.split("///", 1)[-1] or "./var/langorch.db"
        return str(Path(path).with_name(Path(path).stem + "-checkpoints.db"))


class WorkerSettings(BaseModel):
    embedded: bool = Field(default=True, description="Run a worker inside the API process.")
    concurrency: int = Field(default=4, ge=1, le=256, description="Runs one worker executes at once.")
    poll_interval_s: float = Field(default=2.0, gt=0, le=60, description="Fallback poll when no wake-up arrives.")
    heartbeat_s: float = Field(default=5.0, gt=0, le=300, description="How often a worker renews its claims.")
    stale_after_s: float = Field(default=30.0, gt=0, le=3600, description="A claim not renewed this long is reclaimed.")
    durability: Literal["sync", "async", "exit"] = Field(default=
        "sync", description="When LangGraph writes checkpoints: sync (after every step, before the next), "
                            "async (while the next step runs), exit (only when the run pauses or ends; "
                            "a crashed run then restarts from its last pause).")
    cancel_grace_s: float = Field(default=0.5, ge=0, le=30, description="After a cancel, how long a running step may "
                                                                "finish before the worker interrupts it.")


class AgentsSettings(BaseModel):
    saturation_wait_s: float = Field(default=300.0, gt=0, le=86400,
                                     description="How long a call waits for a free agent when every agent of its "
                                                 "channel is at its concurrency_limit, before it fails with "
                                                 "PoolSaturated (a step with timeout_ms waits at most that long).")


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=6 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    max_json_depth: int = Field(default=64, ge=8, le=512,
                                description="JSON bodies nested deeper get 422 (inputs included).")
    body_read_timeout_s: float = Field(default=30.0, gt=0, le=3600,
                                       description="A request body that stops arriving for this long gets 408.")
    static_dir: str | None = Field(default=None, description="Built UI to serve at / (frontend/out).")
    allowed_hosts: Annotated[list[str], NoDecode, BeforeValidator(_comma_list)] = Field(
        default_factory=list,
        description="Host names the server answers besides loopback (localhost, 127.0.0.1, ::1) and the bound "
                    "host: requests naming any other Host get 400 (DNS rebinding). '*' answers every name.")
    cors_origins: Annotated[list[str], NoDecode, BeforeValidator(_comma_list)] = Field(
        default_factory=list,
        description="Origins (https://ops.example.com) whose pages may call the API from a browser. Empty: no "
                    "CORS, and cross-origin writes are refused.")


class RetentionSettings(BaseModel):
    checkpoint_retention_days: float = Field(default=30, ge=0, description="Prune checkpoints of finished runs after.")
    sweep_interval_s: float = Field(default=3600, gt=0)


class LlmSettings(BaseModel):
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (else OPENAI_BASE_URL).")
    api_key: str | None = Field(default=None, description="API key (else OPENAI_API_KEY).")
    default_model: str = "gpt-4o-mini"
    prices: dict[str, tuple[NonNegativeFloat, NonNegativeFloat]] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES),
        description="USD per million tokens, model → [prompt, completion], as JSON; replaces the built-in table. "
                    "A model it does not list (a dated variant such as gpt-4o-2024-08-06 matches gpt-4o) has an "
                    "unknown cost.")


class NotifySettings(BaseModel):
    webhook_url: str | None = Field(default=None, pattern=r"^https?://",
                                    description="Where notify operations go whose channel is 'webhook' or names no "
                                                "agent channel: JSON is POSTed there. Unset: such notifications fail.")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=300, description="How long the webhook may take to answer.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Signs every notification and alert POSTed to the webhook: X-LangOrch-Timestamp "
                                  "and X-LangOrch-Signature (sha256=HMAC of '{timestamp}.{body}'), the scheme "
                                  "webhook triggers check. Unset: sent unsigned.")
    smtp_host: str | None = Field(default=None, min_length=1, max_length=253,
                                  description="SMTP server for e-mail notifications (channel 'email') and alerts. "
                                              "Unset: e-mail goes to the EMAIL agent channel; alerts cannot e-mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (upgrade a plain connection, port 587), tls (implicit TLS, port "
                                        "465) or none (a relay on a trusted network).")
    smtp_username: str | None = Field(default=None, description="SMTP login, when the server needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (with smtp_username).")
    smtp_from: str = Field(default="langorch@localhost", min_length=3, max_length=320,
                           description="The From address of every e-mail sent.")
    smtp_timeout_s: float = Field(default=30.0, gt=0, le=300, description="How long an SMTP exchange may take.")
    console_url: str | None = Field(default=None, pattern=r"^https?://", max_length=1000,
                                    description="The console's address as people reach it "
                                                "(https://langorch.example.com): alerts link to the run there.")
    alert_max_attempts: int = Field(default=8, ge=1, le=100,
                                    description="Tries of one alert delivery (backoff 2 s doubling, at most 10 "
                                                "min apart) before it is marked failed.")


class SandboxSettings(BaseModel):
    allowed_hosts: Annotated[list[str], NoDecode, BeforeValidator(_comma_list)] = Field(
        default_factory=list,
        description="Hosts, addresses and networks procedures' own requests (http_request) may reach although "
                    "they are loopback, private, link-local or otherwise not public: comma-separated or a JSON "
                    "list, e.g. 'erp.internal, 10.20.0.0/16, 127.0.0.1'. Agent URLs need no entry.")
    files_dir: str = Field(default="./var/files",
                           description="Each run's file actions, attachments and spreadsheet reads are confined to "
                                       "<files_dir>/<run_id>.")


class SecretsSettings(BaseModel):
    env_prefix: str = Field(default="LANGORCH_SECRET_", max_length=64, pattern=r"^[A-Za-z0-9_]*$",
                            description="The env_vars secrets provider reads only environment variables with this "
                                        "prefix: secret_references {\"api_key\": \"CRM_TOKEN\"} reads "
                                        "LANGORCH_SECRET_CRM_TOKEN. Empty: any variable (not recommended).")
    key_file: str = Field(default="./var/secret.key", min_length=1,
                          description="The built-in secret store's master key (base64 of 32 bytes) when "
                                      "LANGORCH_SECRET_KEY is not set: created with 0600 permissions the first time "
                                      "the store is used; `langorch secrets rotate-key` replaces it. Every API "
                                      "replica and worker needs the same key.")
    cache_ttl_s: float = Field(default=60.0, ge=0, le=86400,
                               description="How long a secret read from Vault, AWS, Azure or the built-in store is "
                                           "kept in memory: a secret rotated in the provider is read again after "
                                           "this long. A rotation through the built-in store is seen at once by "
                                           "the process that made it. 0: no cache.")
    vault_addr: str | None = Field(default=None, pattern=r"^https?://",
                                   description="HashiCorp Vault address (else VAULT_ADDR; a procedure's "
                                               "secrets_config.vault_url wins).")
    vault_token: SecretStr | None = Field(default=None, description="Vault token (else VAULT_TOKEN). Unset: AppRole "
                                                                    "with vault_role_id and vault_secret_id.")
    vault_role_id: str | None = Field(default=None, description="AppRole role_id (used when no token is set).")
    vault_secret_id: SecretStr | None = Field(default=None, description="AppRole secret_id.")
    vault_approle_mount: str = Field(default="approle", min_length=1, description="Mount path of the AppRole "
                                                                                  "auth method.")
    vault_namespace: str | None = Field(default=None, description="Vault Enterprise namespace (else "
                                                                  "VAULT_NAMESPACE).")
    vault_mount: str = Field(default="secret", min_length=1, description="Mount path of the KV secrets engine.")
    vault_kv_version: int = Field(default=2, ge=1, le=2, description="Version of that KV engine: 1 or 2.")
    aws_region: str | None = Field(default=None, description="AWS Secrets Manager region (else AWS_REGION / "
                                                             "AWS_DEFAULT_REGION / the profile's).")
    aws_endpoint_url: str | None = Field(default=None, pattern=r"^https?://",
                                         description="Another Secrets Manager endpoint (LocalStack, a VPC endpoint).")
    aws_profile: str | None = Field(default=None, description="AWS profile (else AWS_PROFILE or the default "
                                                              "credential chain).")
    azure_vault_url: str | None = Field(default=None, pattern=r"^https://",
                                        description="Azure Key Vault URL, https://NAME.vault.azure.net (else "
                                                    "AZURE_KEYVAULT_URL; a procedure's vault_url wins). "
                                                    "Credentials: DefaultAzureCredential (AZURE_TENANT_ID, "
                                                    "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, managed identity...).")


class AuthSettings(BaseModel):
    enabled: bool = Field(default=True, description="Require an identity on every route except health, login and "
                                                    "signed webhooks. Switching it off makes every caller an admin.")
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 key for session cookies and for bearer "
                                         "tokens you mint yourself. Unset: a random key kept in secret_file. Set the "
                                         "same value on every API replica.")
    secret_file: str = Field(default="./var/auth.key", description="Where the generated HS256 key is kept (created "
                                                                 "with 0600 permissions on first start).")
    token_issuer: str | None = Field(default=None, description="Required `iss` of HS256 bearer tokens (optional).")
    token_audience: str | None = Field(default=None, description="Required `aud` of HS256 bearer tokens (optional).")
    oidc_issuer: str | None = Field(default=None, description="OIDC issuer URL: RS256/ES256 bearer tokens are "
                                                              "verified against its JWKS.")
    oidc_audience: str | None = Field(default=None, description="Required `aud` of OIDC tokens (your client id).")
    oidc_jwks_url: str | None = Field(default=None, description="JWKS URL; default: from the issuer's "
                                                                "/.well-known/openid-configuration.")
    oidc_client_id: str | None = Field(default=None, description="With the issuer: the UI offers single sign-on "
                                                                 "(authorization code flow with PKCE) as this client.")
    oidc_client_secret: SecretStr | None = Field(default=None, description="The client's secret, for a confidential "
                                                                          "client (unset: a public client, PKCE only).")
    oidc_scopes: str = Field(default="openid profile email", description="Scopes asked for at sign-in.")
    oidc_redirect_url: str | None = Field(default=None, description="The callback URL registered with the issuer; "
                                          "default: <this server>/api/auth/oidc/callback.")
    role_claim: str = Field(default="langorch_role", description="Token claim holding the role name (or a list of "
                                                                 "names: the highest counts).")
    groups_claim: str = Field(default="groups", description="Token claim holding approver groups.")
    name_claim: str = Field(default="preferred_username", description="Token claim shown as the caller's name.")
    session_ttl_s: int = Field(default=8 * 3600, ge=60, le=30 * 86400, description="How long a sign-in lasts.")
    bootstrap_admin: bool = Field(default=True, description="On a start with no users, create the local admin "
                                                            "'admin' (password: LANGORCH_ADMIN_PASSWORD, else a "
                                                            "one-time password printed to the console).")
    rate_limit_per_minute: int = Field(default=1200, ge=0, description="Requests one identity (user, key or "
                                       "token) may make per minute, with bursts of a quarter of it; above: 429 with "
                                       "Retry-After. 0: no limit.")
    login_failures_per_5min: int = Field(default=10, ge=1, description="Failed sign-ins per username and per "
                                         "client address in 5 minutes before sign-in answers 429.")


class SchedulerSettings(BaseModel):
    enabled: bool = Field(default=True, description="Run the singleton loops (schedules, approval expiry, event "
                                                    "consumers, file watchers) in this process when it is the leader.")
    tick_s: float = Field(default=1.0, gt=0, le=60, description="How often the leader looks for due schedules.")
    lease_ttl_s: float = Field(default=15.0, gt=0, le=600, description="A leader that has not renewed its lease "
                                                                       "this long is replaced.")
    lease_renew_s: float = Field(default=5.0, gt=0, le=300, description="How often the lease is renewed (or, by "
                                                                       "followers, tried).")


class TriggersSettings(BaseModel):
    watch_roots: Annotated[list[str], NoDecode, BeforeValidator(_comma_list)] = Field(
        default_factory=lambda: ["./var/inbox"],
        description="Folders file-watch triggers may watch (a trigger's path must be one of them or inside one): "
                    "comma-separated or a JSON list, e.g. './var/inbox, /srv/drop'.")


class EventBusSettings(BaseModel):
    refresh_s: float = Field(default=2.0, gt=0, le=300, description="How often the leader re-reads the event "
                                                                    "triggers (added, changed, paused, removed).")
    poll_s: float = Field(default=1.0, gt=0, le=60, description="How long one read from a broker waits for a "
                                                               "message.")
    batch: int = Field(default=10, ge=1, le=1000, description="Messages read from a broker at a time.")
    claim_idle_s: float = Field(default=30.0, gt=0, le=86400, description="Redis Streams: an entry pending this "
                                "long with a consumer that stopped is taken over (claim_idle_ms in an address "
                                "overrides it).")
    retry_s: float = Field(default=1.0, gt=0, le=300, description="First pause before reconnecting to a broker "
                                                                 "or retrying a message given back.")
    max_retry_s: float = Field(default=30.0, gt=0, le=3600, description="Longest pause between reconnections.")
    max_attempts: int = Field(default=5, ge=1, le=1000, description="A message whose handling fails this many "
                              "times (the database answering) is recorded as a failed fire and acknowledged.")


class WebhookSettings(BaseModel):
    require_timestamp: bool = Field(default=False, description="Refuse webhook deliveries without "
                                    "X-LangOrch-Timestamp (whose signature then covers \"{timestamp}.{body}\"), so "
                                    "no delivery can be replayed later. Off: a signature over the body alone is "
                                    "accepted too (senders of the older format).")
    timestamp_tolerance_s: float = Field(default=300.0, ge=1, le=3600, description="How far a delivery's "
                                         "X-LangOrch-Timestamp may be from the server's clock.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LANGORCH_", env_nested_delimiter="__", extra="ignore")

    db: DatabaseSettings = DatabaseSettings()
    worker: WorkerSettings = WorkerSettings()
    agents: AgentsSettings = AgentsSettings()
    api: ApiSettings = ApiSettings()
    retention: RetentionSettings = RetentionSettings()
    llm: LlmSettings = LlmSettings()
    notify: NotifySettings = NotifySettings()
    sandbox: SandboxSettings = SandboxSettings()
    secrets: SecretsSettings = SecretsSettings()
    auth: AuthSettings = AuthSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    webhooks: WebhookSettings = WebhookSettings()
    event_bus: EventBusSettings = EventBusSettings()
    triggers: TriggersSettings = TriggersSettings()
    admin_password: SecretStr | None = Field(default=None, description="Password of the local admin created on "
                                             "first start (LANGORCH_ADMIN_PASSWORD).")
    procedures_dir: str | None = Field(default=None, description="Extra folder of CKP files subflows may call.")
    log_format: Literal["text", "json"] = Field(default="text", description="Log lines as text, or one JSON "
                                                "object per line with run_id, node_id, step_id and trace_id.")
    env_name: str = Field(default="development", min_length=1, max_length=64,
                          description="This deployment's name (development, staging, production...): the "
                                      "{{env_name}} built-in of every procedure.")


@lru_cache
def get_settings() -> Settings:
    return Settings()
