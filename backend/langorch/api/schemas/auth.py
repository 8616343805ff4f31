"""Sign-in, the caller's identity, local users and API keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from langorch.api.schemas.common import ApiModel
from langorch.auth.roles import RoleName

Username = Field(min_length=1, max_length=200, pattern=r"^[^\s\x00]+$")


class AuthStatus(BaseModel):
    auth_enabled: bool
    local_login: bool = Field(description="Users may sign in with a username and password.")
    oidc_login_url: str | None = Field(default=None, description="Single sign-on redirect, when configured.")
    initial_admin_pending: bool = Field(description="The local admin still has the one-time password printed in "
                                                    "the server's console at first start.")


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    subject: str
    name: str
    kind: str = Field(description="user | api_key | token | anonymous (authentication switched off)")
    role: RoleName | None = Field(description="The global role (None: project roles only).")
    project_roles: dict[str, RoleName] = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    must_change_password: bool = False


class LoginResult(BaseModel):
    identity: Me
    csrf_token: str = Field(description="Send as X-CSRF-Token on every non-GET request of this session.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024, description="At least 12 characters.")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Username
    password: str = Field(min_length=1, max_length=1024, description="At least 12 characters.")
    role: RoleName
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    groups: list[str] = Field(default_factory=list, max_length=100,
                              description="Approver groups and levels (manager, executive, finance…).")
    project_roles: dict[str, RoleName] = Field(default_factory=dict, description="project id → role there.")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    role: RoleName | None = None
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    groups: list[str] | None = Field(default=None, max_length=100)
    project_roles: dict[str, RoleName] | None = None
    disabled: bool | None = None


class UserRead(ApiModel):
    user_id: str
    username: str
    display_name: str | None = None
    email: str | None = None
    role: str
    project_roles: dict[str, str] | None = None
    groups: list[str] | None = None
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None = None


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: RoleName
    project_id: str | None = Field(default=None, max_length=64,
                                   description="Set: the role holds on this project only.")
    groups: list[str] = Field(default_factory=list, max_length=100,
                              description="Approver groups and levels the key may decide for (manager…).")


class KeyRead(ApiModel):
    key_id: str
    name: str
    role: str
    project_id: str | None = None
    groups: list[str] | None = None
    created_by: str | None = None
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyCreated(KeyRead):
    key: str = Field(description="The key: shown in this answer only, never again.")
